<!-- covid-gis: withdrawn locations of interest — a table (event_id, withdrawn_at), no geometry -->
<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Fields">
  <renderer-v2 type="nullSymbol"/>
  <aliases>
    <alias field="event_id" index="0" name="Mã sự kiện / Event id"/>
    <alias field="withdrawn_at" index="1" name="Thời điểm gỡ / Withdrawn at"/>
  </aliases>
  <layerGeometryType>4</layerGeometryType>
</qgis>
