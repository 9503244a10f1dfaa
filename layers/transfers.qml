<!-- covid-gis: open and accepted transfer requests as arrows from the leaving facility to the best offer -->
<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Fields">
  <renderer-v2 type="categorizedSymbol" attr="status" symbollevels="0" enableorderby="0" forceraster="0">
    <categories>
      <category render="true" symbol="0" value="open" label="Đang chờ / Open" type="string"/>
      <category render="true" symbol="1" value="accepted" label="Đã nhận / Accepted" type="string"/>
    </categories>
    <symbols>
      <symbol type="line" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="215,48,39,255" type="QString"/>
            <Option name="line_style" value="dash" type="QString"/>
            <Option name="line_width" value="0.8" type="QString"/>
            <Option name="line_width_unit" value="MM" type="QString"/>
            <Option name="capstyle" value="round" type="QString"/>
          </Option>
        </layer>
        <layer class="MarkerLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="placement" value="lastvertex" type="QString"/>
            <Option name="rotate" value="1" type="QString"/>
          </Option>
          <symbol type="marker" name="@0@1" alpha="1" clip_to_extent="1" force_rhr="0">
            <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
              <Option type="Map">
                <Option name="color" value="215,48,39,255" type="QString"/>
                <Option name="name" value="filled_arrowhead" type="QString"/>
                <Option name="outline_color" value="215,48,39,255" type="QString"/>
                <Option name="size" value="3" type="QString"/>
                <Option name="size_unit" value="MM" type="QString"/>
              </Option>
            </layer>
          </symbol>
        </layer>
      </symbol>
      <symbol type="line" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="line_color" value="26,152,80,255" type="QString"/>
            <Option name="line_style" value="solid" type="QString"/>
            <Option name="line_width" value="0.8" type="QString"/>
            <Option name="line_width_unit" value="MM" type="QString"/>
            <Option name="capstyle" value="round" type="QString"/>
          </Option>
        </layer>
        <layer class="MarkerLine" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="placement" value="lastvertex" type="QString"/>
            <Option name="rotate" value="1" type="QString"/>
          </Option>
          <symbol type="marker" name="@1@1" alpha="1" clip_to_extent="1" force_rhr="0">
            <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
              <Option type="Map">
                <Option name="color" value="26,152,80,255" type="QString"/>
                <Option name="name" value="filled_arrowhead" type="QString"/>
                <Option name="outline_color" value="26,152,80,255" type="QString"/>
                <Option name="size" value="3" type="QString"/>
                <Option name="size_unit" value="MM" type="QString"/>
              </Option>
            </layer>
          </symbol>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <aliases>
    <alias field="id" index="0" name="Mã yêu cầu / Request"/>
    <alias field="status" index="1" name="Trạng thái / Status"/>
    <alias field="from_facility" index="2" name="Cơ sở đi / From facility"/>
    <alias field="required_tier" index="3" name="Tầng cần / Required tier"/>
    <alias field="waiting_minutes" index="4" name="Số phút chờ / Minutes waiting"/>
    <alias field="best_offer_facility" index="5" name="Cơ sở đề nghị / Best offer"/>
    <alias field="best_offer_km" index="6" name="Khoảng cách (km) / Distance (km)"/>
  </aliases>
  <layerGeometryType>1</layerGeometryType>
</qgis>
