<!-- covid-gis: restricted layer beds - facilities (per room kind) coloured by the share of staffed beds in use,
     sized by staffed beds. The classes are display classes of this style, not thresholds of any rule. -->
<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Fields">
  <renderer-v2 type="graduatedSymbol" attr="CASE WHEN coalesce(&quot;staffed_beds&quot;, 0) = 0 THEN 1 ELSE &quot;occupied&quot; / &quot;staffed_beds&quot; END" graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" forceraster="0">
    <ranges>
      <range render="true" symbol="0" lower="0" upper="0.5" label="Dưới 50 % giường có nhân lực đang dùng / Under half of staffed beds in use"/>
      <range render="true" symbol="1" lower="0.5" upper="0.8" label="50–80 %"/>
      <range render="true" symbol="2" lower="0.8" upper="0.95" label="80–95 %"/>
      <range render="true" symbol="3" lower="0.95" upper="1000" label="≥ 95 %: gần hết hoặc hết giường / nearly or fully occupied"/>
    </ranges>
    <symbols>
      <symbol type="marker" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="26,150,65,255" type="QString"/>
            <Option name="name" value="circle" type="QString"/>
            <Option name="outline_color" value="35,35,35,255" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="size" value="3" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
          </Option>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties" type="Map">
                <Option name="size" type="Map">
                  <Option name="active" value="true" type="bool"/>
                  <Option name="expression" value="coalesce(scale_linear(&quot;staffed_beds&quot;, 0, 200, 2, 8), 2)" type="QString"/>
                  <Option name="type" value="3" type="int"/>
                </Option>
              </Option>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
        </layer>
      </symbol>
      <symbol type="marker" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="166,217,106,255" type="QString"/>
            <Option name="name" value="circle" type="QString"/>
            <Option name="outline_color" value="35,35,35,255" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="size" value="3" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
          </Option>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties" type="Map">
                <Option name="size" type="Map">
                  <Option name="active" value="true" type="bool"/>
                  <Option name="expression" value="coalesce(scale_linear(&quot;staffed_beds&quot;, 0, 200, 2, 8), 2)" type="QString"/>
                  <Option name="type" value="3" type="int"/>
                </Option>
              </Option>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
        </layer>
      </symbol>
      <symbol type="marker" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="253,174,97,255" type="QString"/>
            <Option name="name" value="circle" type="QString"/>
            <Option name="outline_color" value="35,35,35,255" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="size" value="3" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
          </Option>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties" type="Map">
                <Option name="size" type="Map">
                  <Option name="active" value="true" type="bool"/>
                  <Option name="expression" value="coalesce(scale_linear(&quot;staffed_beds&quot;, 0, 200, 2, 8), 2)" type="QString"/>
                  <Option name="type" value="3" type="int"/>
                </Option>
              </Option>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
        </layer>
      </symbol>
      <symbol type="marker" name="3" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleMarker" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="215,25,28,255" type="QString"/>
            <Option name="name" value="circle" type="QString"/>
            <Option name="outline_color" value="35,35,35,255" type="QString"/>
            <Option name="outline_width" value="0.2" type="QString"/>
            <Option name="outline_width_unit" value="MM" type="QString"/>
            <Option name="size" value="3" type="QString"/>
            <Option name="size_unit" value="MM" type="QString"/>
          </Option>
          <data_defined_properties>
            <Option type="Map">
              <Option name="name" value="" type="QString"/>
              <Option name="properties" type="Map">
                <Option name="size" type="Map">
                  <Option name="active" value="true" type="bool"/>
                  <Option name="expression" value="coalesce(scale_linear(&quot;staffed_beds&quot;, 0, 200, 2, 8), 2)" type="QString"/>
                  <Option name="type" value="3" type="int"/>
                </Option>
              </Option>
              <Option name="type" value="collection" type="QString"/>
            </Option>
          </data_defined_properties>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <aliases>
    <alias field="facility_id" index="0" name="Mã cơ sở / Facility"/>
    <alias field="name" index="1" name="Tên cơ sở / Name"/>
    <alias field="facility_kind" index="2" name="Loại cơ sở / Kind"/>
    <alias field="tier" index="3" name="Tầng điều trị / Tier"/>
    <alias field="room_kind" index="4" name="Loại phòng / Room kind"/>
    <alias field="rooms" index="5" name="Số phòng / Rooms"/>
    <alias field="beds" index="6" name="Số giường / Beds"/>
    <alias field="staffed_beds" index="7" name="Giường có nhân lực / Staffed beds"/>
    <alias field="occupied" index="8" name="Đang điều trị, cách ly / People now"/>
    <alias field="free_staffed_beds" index="9" name="Giường trống có nhân lực / Free staffed beds"/>
    <alias field="reported_occupied" index="10" name="Số báo cáo / Reported occupied"/>
  </aliases>
  <layerGeometryType>0</layerGeometryType>
</qgis>
