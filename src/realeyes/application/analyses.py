"""Analyse uploaded bytes once and keep the result: the one path the API and the job workers share."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError

from realeyes.application import metrics, uploads
from realeyes.application.isolation import Analysed, AnalysisPool, analyse_bytes
from realeyes.application.storage import FileStore
from realeyes.application.video_options import VideoOptions
from realeyes.engine import Engine
from realeyes.media import sniff_format
from realeyes.store import Analysis, Database
from realeyes.store.models import new_id, owner_of
from realeyes.verdict import Verdict


@dataclass
class Outcome:
    analysis: Analysis
    cached: bool  # identical bytes were analysed before by the same model versions
    verdict: Verdict | None = None  # set when freshly computed (its maps and key frames are stored as files)


class Analyses:
    def __init__(self, engine: Engine, database: Database, files: FileStore, pool: AnalysisPool | None = None) -> None:
        self.engine = engine
        # The service analyses in worker processes under a time budget; without a pool, in this process.
        self.pool = pool
        self.database = database
        self.files = files
        # What makes two results interchangeable: every analyzer/model version and the decision thresholds.
        self._identity: dict[str, object] = {**engine.versions, "thresholds": dataclasses.asdict(engine.thresholds)}
        self.versions_key = _digest(self._identity)

    def key_for(self, video: VideoOptions | None) -> str:
        """The versions key of a result analysed with these video options: a video sampled at another rate than
        the engine's is another result, so the rate joins the identity (the duration limit changes no result)."""
        if video is None or video.fps is None:
            return self.versions_key
        return _digest({**self._identity, "video_fps": video.fps})

    def find(self, sha256: str, owner: str, versions_key: str | None = None) -> Analysis | None:
        """The stored result for these bytes and models (`versions_key`, default the engine's): the owner's own
        record if there is one, else anyone's (the earliest of each), in one query."""
        versions_key = versions_key or self.versions_key
        with self.database.session() as session:
            query = select(Analysis).where(Analysis.sha256 == sha256, Analysis.versions_key == versions_key)
            someone_else = case((Analysis.owner == owner, 0), else_=1)
            return session.scalars(query.order_by(someone_else, Analysis.created_at).limit(1)).first()

    def analyze(
        self, data: bytes, filename: str, api_key_id: str | None = None, video: VideoOptions | None = None
    ) -> Outcome:
        """Return the caller's stored result for these bytes, or analyse and store them. MediaError propagates.

        Another key's result for the same bytes and models is reused as a new record of the caller's own (its
        own id and file name, answered as a fresh analysis), never handed out itself. `video` applies to videos
        only; a stored result is answered without checking its duration limit (it costs no analysis)."""
        video = self._video_options(data, video)
        versions_key = self.key_for(video)
        sha256 = hashlib.sha256(data).hexdigest()
        owner = owner_of(api_key_id)
        stored = self.find(sha256, owner, versions_key)
        if stored is not None and stored.owner == owner:
            metrics.ANALYSES.labels("true").inc()
            return Outcome(stored, cached=True)
        if stored is not None:
            reused = self._copy_for(stored, data, filename, api_key_id)
            if reused is not None:
                metrics.ANALYSES.labels("true").inc()
                return reused
        analysed = self.pool.analyze(data, video) if self.pool is not None else analyse_bytes(self.engine, data, video)
        verdict = analysed.verdict
        analysis = Analysis(
            id=new_id(),
            sha256=sha256,
            versions_key=versions_key,
            filename=filename[:255],
            size_bytes=len(data),
            media_format=analysed.media_format,
            width=analysed.width,
            height=analysed.height,
            label=verdict.label,
            p_fake=verdict.p_fake,
            result=verdict.to_dict(),
            maps=sorted(analysed.maps),
            api_key_id=api_key_id,
            owner=owner,
        )
        try:
            self._store_pictures(analysis.id, analysed)
        except BaseException:  # a full disk, say: none of this record's maps or thumbnail is left behind
            self.files.delete_analysis_files(analysis.id)
            raise
        winner = self._insert(analysis, data)
        if winner is not None:
            return Outcome(winner, cached=True)
        metrics.ANALYSES.labels("false").inc()
        metrics.observe_verdict(verdict)
        return Outcome(analysis, cached=False, verdict=verdict)

    def _video_options(self, data: bytes, video: VideoOptions | None) -> VideoOptions | None:
        """The options that apply: none for what is not a video, and no rate of its own at the engine's rate."""
        found = sniff_format(data[:64])
        if video is None or found is None or found.kind != "video":
            return None
        return dataclasses.replace(video, fps=None) if video.fps == self.engine.settings.video_fps else video

    def _insert(self, analysis: Analysis, data: bytes) -> Analysis | None:
        """Store the record and its upload reference. When the same owner stored the same bytes a moment ago
        (a concurrent request), drop this one and return theirs. When the database or the disk fails, nothing
        of this record is left: its maps and thumbnail, and the upload if this call wrote it and no one else
        holds it, are deleted before the error propagates."""
        wrote_upload = False
        try:
            with self.database.session() as session:
                session.add(analysis)
                session.flush()
                holder = uploads.analysis_holder(analysis.id)
                wrote_upload = uploads.hold(session, self.files, data, analysis.sha256, holder)
        except IntegrityError:
            self._discard(analysis, wrote_upload)
            winner = self.find(analysis.sha256, analysis.owner, analysis.versions_key)
            if winner is None or winner.owner != analysis.owner:  # never another owner's record
                raise
            return winner
        except BaseException:
            self._discard(analysis, wrote_upload)
            raise
        return None

    def _discard(self, analysis: Analysis, wrote_upload: bool) -> None:
        """Undo the files of a record that was not stored."""
        self.files.delete_analysis_files(analysis.id)
        if wrote_upload:
            uploads.undo_write(self.database, self.files, analysis.sha256)

    def _copy_for(self, source: Analysis, data: bytes, filename: str, api_key_id: str | None) -> Outcome | None:
        """A record of the caller's own carrying another owner's verdict for the same bytes (no recomputation),
        answered like a fresh analysis so that it says nothing about other keys. None when the source's files
        went away meanwhile (the bytes are then analysed afresh)."""
        copy = Analysis(
            id=new_id(),
            sha256=source.sha256,
            versions_key=source.versions_key,
            filename=filename[:255],
            size_bytes=source.size_bytes,
            media_format=source.media_format,
            width=source.width,
            height=source.height,
            label=source.label,
            p_fake=source.p_fake,
            result=source.result,
            maps=list(source.maps),
            api_key_id=api_key_id,
            owner=owner_of(api_key_id),
        )
        if not self.files.copy_analysis_files(source.id, copy.id, copy.maps, key_frames(source.result)):
            return None
        winner = self._insert(copy, data)
        return Outcome(winner, cached=True) if winner is not None else Outcome(copy, cached=False)

    def _store_pictures(self, analysis_id: str, analysed: Analysed) -> None:
        for name, png in analysed.maps.items():
            self.files.put_map(analysis_id, name, png)
        for name, frame in analysed.frames.items():
            self.files.put_frame(analysis_id, name, frame)
        if analysed.thumbnail is not None:
            self.files.put_thumbnail(analysis_id, analysed.thumbnail)

    def delete(self, analysis_id: str, owner: str | None = None) -> bool:
        """Remove the result, its maps and thumbnail, and the upload unless another result or an unfinished job
        still holds it. With an owner, only that owner's analysis (False: none of theirs has this id)."""
        with self.database.session() as session:
            analysis = session.get(Analysis, analysis_id)
            if analysis is None or (owner is not None and analysis.owner != owner):
                return False
            session.delete(analysis)
            session.flush()
            uploads.release(session, self.files, [uploads.analysis_holder(analysis_id)])
        self.files.delete_analysis_files(analysis_id)
        return True


def key_frames(result: dict[str, Any]) -> list[str]:
    """The names of a stored result's key frames (results from before key frames were files have none)."""
    timeline = result.get("timeline") or {}
    return [frame["name"] for frame in timeline.get("key_frames", [])]


def _digest(identity: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
