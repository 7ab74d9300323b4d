"""Analyse uploaded bytes once and keep the result: the one path the API and the job workers share."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from realeyes.engine import Engine
from realeyes.imaging import fit_within, map_to_png, shrink
from realeyes.media import Media, load_media
from realeyes.service import metrics
from realeyes.service.storage import FileStore
from realeyes.store import Analysis, Database
from realeyes.store.models import new_id
from realeyes.verdict import Verdict

THUMBNAIL_SIDE = 256
DISPLAY_MAP_SIDE = 256  # non-spatial maps (the spectrum) are stored at most this large


@dataclass
class Outcome:
    analysis: Analysis
    cached: bool  # identical bytes were analysed before by the same model versions
    verdict: Verdict | None = None  # set when freshly computed (the maps are still in memory)


class Analyses:
    def __init__(self, engine: Engine, database: Database, files: FileStore) -> None:
        self.engine = engine
        self.database = database
        self.files = files
        # What makes two results interchangeable: every analyzer/model version and the decision thresholds.
        identity = {**engine.versions, "thresholds": dataclasses.asdict(engine.thresholds)}
        self.versions_key = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()

    def find(self, sha256: str) -> Analysis | None:
        with self.database.session() as session:
            query = select(Analysis).where(Analysis.sha256 == sha256, Analysis.versions_key == self.versions_key)
            return session.scalars(query).first()

    def analyze(self, data: bytes, filename: str, api_key_id: str | None = None) -> Outcome:
        """Return the stored result for these bytes, or analyse and store them. MediaError propagates."""
        sha256 = hashlib.sha256(data).hexdigest()
        existing = self.find(sha256)
        if existing is not None:
            metrics.ANALYSES.labels("true").inc()
            return Outcome(existing, cached=True)
        media = load_media(data, self.engine.settings)
        verdict = self.engine.analyze_media(media)
        analysis = Analysis(
            id=new_id(),
            sha256=sha256,
            versions_key=self.versions_key,
            filename=filename[:255],
            size_bytes=len(data),
            media_format=media.format.name,
            width=media.width,
            height=media.height,
            label=verdict.label,
            p_fake=verdict.p_fake,
            result=verdict.to_dict(),
            maps=sorted(name for evidence in verdict.evidence for name in evidence.maps),
            api_key_id=api_key_id,
        )
        self.files.put_upload(data)
        self._store_pictures(analysis.id, media, verdict)
        try:
            with self.database.session() as session:
                session.add(analysis)
        except IntegrityError:
            # The same bytes were stored by a concurrent request a moment ago: serve that one.
            self.files.delete_analysis_files(analysis.id)
            winner = self.find(sha256)
            if winner is None:
                raise
            return Outcome(winner, cached=True)
        metrics.ANALYSES.labels("false").inc()
        metrics.observe_verdict(verdict)
        return Outcome(analysis, cached=False, verdict=verdict)

    def _store_pictures(self, analysis_id: str, media: Media, verdict: Verdict) -> None:
        for evidence in verdict.evidence:
            for name, heatmap in evidence.maps.items():
                # A spectrum is looked at, not overlaid: a small one encodes four times faster.
                side = self.engine.settings.map_max_side if heatmap.spatial else DISPLAY_MAP_SIDE
                self.files.put_map(analysis_id, name, map_to_png(shrink(heatmap.values, side)))
        if media.rgb is not None:
            self.files.put_thumbnail(analysis_id, thumbnail_jpeg(media.rgb))

    def delete(self, analysis_id: str) -> bool:
        """Remove the result, its maps and thumbnail, and the upload unless another result still uses it."""
        with self.database.session() as session:
            analysis = session.get(Analysis, analysis_id)
            if analysis is None:
                return False
            sha256 = analysis.sha256
            session.delete(analysis)
            session.flush()
            still_used = session.scalar(select(Analysis.id).where(Analysis.sha256 == sha256).limit(1))
        self.files.delete_analysis_files(analysis_id)
        if still_used is None:
            self.files.delete_upload(sha256)
        return True


def thumbnail_jpeg(rgb: np.ndarray) -> bytes:
    height, width = fit_within(rgb.shape, THUMBNAIL_SIDE)
    image = Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
