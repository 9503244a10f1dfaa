<!-- covid-gis: F1 quarantine orders by status (the facility's point, or a point in the commune for a home order) -->
<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Fields">
  <renderer-v2 type="categorizedSymbol" attr="status" symbollevels="0" enableorderby="0" forceraster="0">
    <categories>
      <category render="true" symbol="0" value="active" label="Đang cách ly / Active" type="string"/>
      <category render="true" symbol="1" value="completed" label="Đã hoàn thành / Completed" type="string"/>
      <category render="true" symbol="2" value="became_f0" label="Chuyển F0 / Became F0" type="string"/>
      <category render="true" symbol="3" value="lost" label="Mất theo dõi / Lost to follow-up" type="string"/>
    </categories>
    <symbols>
      <symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="31,120,180,255" type="QString"/>
            <Option name="name" value="circle" type="QString"/>
            <Option name="outline_color" value="35,35,35,255" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="size" value="3" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="26,152,80,255" type="QString"/>
            <Option name="name" value="circle" type="QString"/>
            <Option name="outline_color" value="35,35,35,255" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="size" value="3" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="215,48,39,255" type="QString"/>
            <Option name="name" value="circle" type="QString"/>
            <Option name="outline_color" value="35,35,35,255" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="size" value="3" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
          </Option>
        </layer>
      </symbol>
      <symbol type="marker" name="3" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="120,120,120,255" type="QString"/>
            <Option name="name" value="circle" type="QString"/>
            <Option name="outline_color" value="35,35,35,255" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="size" value="3" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
          </Option>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <aliases>
    <alias field="id" index="0" name="Mã lệnh / Order"/>
    <alias field="person_key" index="1" name="Mã người (ẩn danh) / Person key (pseudonymised)"/>
    <alias field="facility_id" index="2" name="Cơ sở / Facility"/>
    <alias field="place" index="3" name="Nơi cách ly / Place"/>
    <alias field="start_on" index="4" name="Ngày bắt đầu / Start"/>
    <alias field="end_on" index="5" name="Ngày kết thúc / End"/>
    <alias field="status" index="6" name="Trạng thái / Status"/>
    <alias field="overdue" index="7" name="Quá hạn xét nghiệm / Test overdue"/>
    <alias field="days_to_end" index="8" name="Số ngày còn lại / Days to end"/>
  </aliases>
  <layerGeometryType>0</layerGeometryType>
</qgis>
