<!-- covid-gis: treatment capacity per district and tier: free staffed beds (suppressed rows not drawn) -->
<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Fields">
  <renderer-v2 type="graduatedSymbol" attr="free_staffed_beds" graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" forceraster="0">
    <ranges>
      <range render="true" symbol="0" lower="0" upper="0.5" label="Hết giường / No free staffed bed"/>
      <range render="true" symbol="1" lower="0.5" upper="19.5" label="1–19"/>
      <range render="true" symbol="2" lower="19.5" upper="99.5" label="20–99"/>
      <range render="true" symbol="3" lower="99.5" upper="1000000" label="≥ 100"/>
    </ranges>
    <symbols>
      <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="215,48,39,170" type="QString"/>
            <Option name="outline_color" value="80,80,80,255" type="QString"/>
            <Option name="outline_style" value="solid" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="style" value="solid" type="QString"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="252,141,89,170" type="QString"/>
            <Option name="outline_color" value="80,80,80,255" type="QString"/>
            <Option name="outline_style" value="solid" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="style" value="solid" type="QString"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="217,239,139,170" type="QString"/>
            <Option name="outline_color" value="80,80,80,255" type="QString"/>
            <Option name="outline_style" value="solid" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="style" value="solid" type="QString"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="fill" name="3" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="26,152,80,170" type="QString"/>
            <Option name="outline_color" value="80,80,80,255" type="QString"/>
            <Option name="outline_style" value="solid" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="style" value="solid" type="QString"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <aliases>
    <alias field="code" index="0" name="Mã huyện / District code"/>
    <alias field="tier" index="1" name="Tầng / Tier"/>
    <alias field="facilities" index="2" name="Số cơ sở / Facilities"/>
    <alias field="beds" index="3" name="Giường / Beds"/>
    <alias field="staffed_beds" index="4" name="Giường có nhân lực / Staffed beds"/>
    <alias field="details_suppressed" index="5" name="Ẩn số nhỏ / Small counts suppressed"/>
    <alias field="occupied" index="6" name="Đang điều trị / Occupied"/>
    <alias field="free_staffed_beds" index="7" name="Giường trống có nhân lực / Free staffed beds"/>
  </aliases>
  <layerGeometryType>2</layerGeometryType>
</qgis>
