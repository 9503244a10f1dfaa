<!-- covid-gis: welfare coverage per hamlet and programme: share of eligible households reached (suppressed rows not drawn) -->
<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Fields">
  <renderer-v2 type="graduatedSymbol" attr="share" graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" forceraster="0">
    <ranges>
      <range render="true" symbol="0" lower="0" upper="0.25" label="&lt; 25 % hộ đủ điều kiện đã nhận / reached"/>
      <range render="true" symbol="1" lower="0.25" upper="0.5" label="25–50 %"/>
      <range render="true" symbol="2" lower="0.5" upper="0.75" label="50–75 %"/>
      <range render="true" symbol="3" lower="0.75" upper="1.0" label="≥ 75 %"/>
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
    <alias field="code" index="0" name="Mã ấp / Hamlet code"/>
    <alias field="name" index="1" name="Tên / Name"/>
    <alias field="programme" index="2" name="Chương trình / Programme"/>
    <alias field="title_vi" index="3" name="Tên chương trình"/>
    <alias field="title_en" index="4" name="Programme title"/>
    <alias field="day" index="5" name="Ngày / Day"/>
    <alias field="details_suppressed" index="6" name="Ẩn số nhỏ / Small counts suppressed"/>
    <alias field="eligible" index="7" name="Đủ điều kiện / Eligible"/>
    <alias field="to_confirm" index="8" name="Cần xác minh / To confirm"/>
    <alias field="reached" index="9" name="Đã nhận / Reached"/>
    <alias field="share" index="10" name="Tỷ lệ / Share"/>
    <alias field="delivered" index="11" name="Đã chi trả / Delivered"/>
    <alias field="value_vnd" index="12" name="Giá trị (VND) / Value (VND)"/>
  </aliases>
  <layerGeometryType>2</layerGeometryType>
</qgis>
