"""One optimisation loop for the model pipelines: a time or step budget, linear warm-up then cosine decay, a
validation every few steps that keeps the best checkpoint, and a last-state checkpoint to resume from.

The best checkpoint (`output`) holds {state_dict, config, step}, what each pipeline's export reads. The last state
(`output` with suffix `.last.pt`) adds the optimiser, the time spent, the learning curve and the state of the random
generators the batches are drawn from (the pipeline's numpy generators and torch's); `resume=True` carries on from
it with the same config, so a stopped run loses at most the steps since its last validation and then draws the
batches an uninterrupted run would have drawn, instead of replaying its first ones.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import torch

log = logging.getLogger(__name__)

Figures = dict[str, Any]
Validation = Callable[[], tuple[float | None, Figures]]  # (selection score, higher is better; figures to log)


class Schedule(Protocol):
    """The fields every pipeline's training config has (a dataclass)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def minutes(self) -> float: ...  # wall-clock budget

    @property
    def max_steps(self) -> int: ...

    @property
    def learning_rate(self) -> float: ...  # peak

    @property
    def warmup_steps(self) -> int: ...

    @property
    def eval_every(self) -> int: ...  # steps between validations


@dataclass
class Fitted:
    steps: int
    best: float | None  # the best selection score; None when validation never gave one
    minutes: float
    curve: list[Figures] = field(default_factory=list)

    def write_history(self, output: Path, **extra: object) -> dict[str, object]:
        """The run's history (steps, the pipeline's own figures, the curve, minutes) beside its checkpoint."""
        history = {"steps": self.steps, **extra, "curve": self.curve, "minutes": self.minutes}
        output.with_suffix(".history.json").write_text(json.dumps(history, indent=2))
        return history


def learning_rate(step: int, progress: float, config: Schedule) -> float:
    """Linear warm-up over the first steps, then a cosine decay over the run's progress (0 to 1)."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    return config.learning_rate * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def last_state_path(output: Path) -> Path:
    return output.with_suffix(".last.pt")


def fit(
    model: torch.nn.Module,
    optimiser: torch.optim.Optimizer,
    config: Schedule,
    batch_loss: Callable[[], torch.Tensor],
    validate: Validation,
    output: Path,
    resume: bool = False,
    generators: Sequence[np.random.Generator] = (),
) -> Fitted:
    """Optimise `batch_loss` until the time budget or max_steps, whichever ends first (the schedule follows it,
    so evaluation pauses and a busy machine do not cut the decay short). `generators`: every numpy generator
    `batch_loss` draws from, saved with the last state and restored on resume."""
    fitted = Fitted(steps=0, best=None, minutes=0.0)
    spent = _resume(model, optimiser, config, output, fitted, generators) if resume else 0.0
    started = time.monotonic() - spent

    def progress() -> float:
        return max((time.monotonic() - started) / (config.minutes * 60), fitted.steps / config.max_steps)

    while progress() < 1.0:
        for group in optimiser.param_groups:
            group["lr"] = learning_rate(fitted.steps, progress(), config)
        loss = batch_loss()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        fitted.steps += 1
        if fitted.steps % config.eval_every == 0 or progress() >= 1.0:
            selection, figures = validate()
            fitted.minutes = round((time.monotonic() - started) / 60, 2)
            fitted.curve.append({"step": fitted.steps, "minutes": fitted.minutes, "loss": round(loss.item(), 4)})
            fitted.curve[-1].update(figures)
            log.info("step %d loss %.4f validation %s", fitted.steps, loss.item(), figures)
            if selection is not None and (fitted.best is None or selection > fitted.best):
                fitted.best = selection
                _save_best(model, config, fitted.steps, output)
            _save_last(model, optimiser, config, fitted, time.monotonic() - started, output, generators)
    if fitted.best is None:  # validation could not rank (one class only): keep the last weights rather than none
        log.warning("no validation score; saving the last step")
        _save_best(model, config, fitted.steps, output)
    fitted.minutes = round((time.monotonic() - started) / 60, 2)
    return fitted


def _save_best(model: torch.nn.Module, config: Schedule, step: int, output: Path) -> None:
    _atomic_save({"state_dict": model.state_dict(), "config": asdict(config), "step": step}, output)


def _save_last(
    model: torch.nn.Module,
    optimiser: torch.optim.Optimizer,
    config: Schedule,
    fitted: Fitted,
    seconds: float,
    output: Path,
    generators: Sequence[np.random.Generator],
) -> None:
    state: dict[str, Any] = {
        "state_dict": model.state_dict(),
        "optimiser": optimiser.state_dict(),
        "config": asdict(config),
        "step": fitted.steps,
        "seconds": seconds,
        "best": None if fitted.best is None else float(fitted.best),
        "curve": json.loads(json.dumps(fitted.curve)),  # plain floats: numpy ones would not load with weights_only
        "generators": [g.bit_generator.state for g in generators],  # dicts of ints: they load with weights_only
        "torch_generator": torch.get_rng_state(),
    }
    _atomic_save(state, last_state_path(output))


def _resume(
    model: torch.nn.Module,
    optimiser: torch.optim.Optimizer,
    config: Schedule,
    output: Path,
    fitted: Fitted,
    generators: Sequence[np.random.Generator],
) -> float:
    """Load the last state into the model, optimiser and `fitted`; returns the seconds already spent."""
    path = last_state_path(output)
    if not path.is_file():
        raise FileNotFoundError(f"nothing to resume: {path} does not exist (start without resuming)")
    state = torch.load(path, weights_only=True)
    if state["config"] != asdict(config):
        raise ValueError(f"{path} was trained with another config: {state['config']}")
    model.load_state_dict(state["state_dict"])
    optimiser.load_state_dict(state["optimiser"])
    fitted.steps, fitted.best, fitted.curve = int(state["step"]), state["best"], list(state["curve"])
    saved = state.get("generators")
    if saved is None or len(saved) != len(generators):
        log.warning("%s holds no state for these random generators: the batches start afresh", path)
    else:
        for generator, generator_state in zip(generators, saved, strict=True):
            generator.bit_generator.state = generator_state
        torch.set_rng_state(state["torch_generator"])
    log.info("resuming at step %d after %.1f minutes", fitted.steps, state["seconds"] / 60)
    return float(state["seconds"])


def _atomic_save(state: dict[str, Any], path: Path) -> None:
    partial = path.with_suffix(".partial")
    torch.save(state, partial)
    partial.replace(path)
