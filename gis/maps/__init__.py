"""The live risk map at /map: a folium page with local assets, and the small JSON API it reads."""
