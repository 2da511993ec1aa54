"""CSV and GeoJSON: whole exports of a search, streamed row by row.

DRF renderers render a finished body; these two exist for content negotiation
(?format=csv, Accept: text/csv, ?format=geojson, Accept: application/geo+json).
The list view answers them with a StreamingHttpResponse built from the
generators below, so a state-wide export never sits in memory.
"""

import json

from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder

from .. import rows

GEOJSON_CHUNK_SIZE = 500


class StreamedRenderer(BaseRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Only reached if a view returns a Response for a streamed format: a bug.
        raise NotImplementedError(f"{self.format} is streamed by the view, not rendered.")


class CSVRenderer(StreamedRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class GeoJSONRenderer(StreamedRenderer):
    media_type = "application/geo+json"
    format = "geojson"
    charset = None


def geojson_feature(item):
    """A GeoJSON Feature from an API list item; listings without coordinates get no geometry."""
    if item["latitude"] is None or item["longitude"] is None:
        geometry = None
    else:
        # GeoJSON puts longitude first.
        geometry = {"type": "Point", "coordinates": [item["longitude"], item["latitude"]]}
    return {"type": "Feature", "id": item["id"], "geometry": geometry, "properties": item}


def geojson_chunks(queryset, to_item):
    """Yield a FeatureCollection's text, a chunk of Features at a time (to_item: listing
    row -> API item); each chunk's terms come in one query (rows.chunks)."""
    yield '{"type":"FeatureCollection","features":['
    separator = ""
    for chunk in rows.chunks(queryset, rows.LIST_TERM_FIELDS, GEOJSON_CHUNK_SIZE):
        features = (geojson_feature(to_item(facility)) for facility in chunk)
        text = ",".join(json.dumps(f, cls=JSONEncoder, ensure_ascii=False) for f in features)
        yield separator + text
        separator = ","
    yield "]}\n"
