"""The shared optimisation loop: budget, schedule, best and last checkpoints, resuming."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from realeyes.training.fit import fit, last_state_path, learning_rate


@dataclass(frozen=True)
class Config:
    minutes: float = 10.0
    max_steps: int = 8
    learning_rate: float = 0.05
    warmup_steps: int = 2
    eval_every: int = 2


class Stop(Exception):
    pass


class Problem:
    """Fit y = 2x with one weight; validation scores the negative error, so it improves as training goes."""

    def __init__(self, stop_at_call: int | None = None) -> None:
        torch.manual_seed(0)
        self.model = torch.nn.Linear(1, 1, bias=False)
        self.optimiser = torch.optim.SGD(self.model.parameters(), lr=0.05, momentum=0.9)
        self.calls, self.stop_at_call = 0, stop_at_call
        self.x = torch.linspace(-1.0, 1.0, 16)[:, None]

    def batch_loss(self) -> torch.Tensor:
        self.calls += 1
        if self.calls == self.stop_at_call:
            raise Stop  # the run is killed here
        return torch.mean((self.model(self.x) - 2.0 * self.x) ** 2)

    def validate(self) -> tuple[float | None, dict[str, object]]:
        error = abs(self.model.weight.item() - 2.0)
        return -error, {"error": error}


def test_fit_runs_to_its_step_budget_and_keeps_the_best_and_the_last_state(tmp_path: Path) -> None:
    problem, output = Problem(), tmp_path / "model.pt"
    fitted = fit(problem.model, problem.optimiser, Config(), problem.batch_loss, problem.validate, output)
    assert fitted.steps == 8 and problem.calls == 8
    assert [entry["step"] for entry in fitted.curve] == [2, 4, 6, 8]
    best = torch.load(output, weights_only=True)
    assert best["config"]["max_steps"] == 8 and best["step"] in (2, 4, 6, 8)
    assert fitted.best == max(-entry["error"] for entry in fitted.curve)  # type: ignore[operator]
    last = torch.load(last_state_path(output), weights_only=True)
    assert last["step"] == 8 and last["optimiser"]["state"]  # the momentum buffers travel with it


def test_a_killed_run_resumes_from_its_last_validation(tmp_path: Path) -> None:
    output = tmp_path / "model.pt"
    killed = Problem(stop_at_call=6)  # dies during step 6: the last state is step 4's
    with pytest.raises(Stop):
        fit(killed.model, killed.optimiser, Config(), killed.batch_loss, killed.validate, output)
    again = Problem()
    fitted = fit(again.model, again.optimiser, Config(), again.batch_loss, again.validate, output, resume=True)
    assert again.calls == 4 and fitted.steps == 8
    assert [entry["step"] for entry in fitted.curve] == [2, 4, 6, 8]
    assert again.model.weight.item() != Problem().model.weight.item()  # it carried on from the saved weights


class NoisyProblem(Problem):
    """The same fit on batches drawn at random (a numpy generator picks the points, torch's adds noise)."""

    def __init__(self, stop_at_call: int | None = None) -> None:
        super().__init__(stop_at_call)
        self.rng = np.random.default_rng(7)
        self.drawn: list[float] = []

    def batch_loss(self) -> torch.Tensor:
        self.calls += 1
        if self.calls == self.stop_at_call:
            raise Stop
        x = torch.from_numpy(self.rng.uniform(-1.0, 1.0, (4, 1)).astype(np.float32)) + 0.01 * torch.randn(4, 1)
        self.drawn.append(float(x.sum()))
        return torch.mean((self.model(x) - 2.0 * x) ** 2)


def test_a_resumed_run_draws_the_batches_an_uninterrupted_run_would_have_drawn(tmp_path: Path) -> None:
    whole = NoisyProblem()
    torch.manual_seed(0)
    fit(whole.model, whole.optimiser, Config(), whole.batch_loss, whole.validate, tmp_path / "a.pt", False, [whole.rng])
    killed = NoisyProblem(stop_at_call=6)  # dies during step 6: the last state is step 4's
    torch.manual_seed(0)
    with pytest.raises(Stop):
        fit(
            killed.model,
            killed.optimiser,
            Config(),
            killed.batch_loss,
            killed.validate,
            tmp_path / "b.pt",
            False,
            [killed.rng],
        )
    again = NoisyProblem()  # a new process: its generators start from the seed again
    torch.manual_seed(0)
    fit(again.model, again.optimiser, Config(), again.batch_loss, again.validate, tmp_path / "b.pt", True, [again.rng])
    assert again.drawn == whole.drawn[4:]  # steps 5-8, not a replay of steps 1-4
    assert again.model.weight.item() == pytest.approx(whole.model.weight.item(), abs=1e-6)


def test_resuming_needs_the_same_settings_and_a_saved_state(tmp_path: Path) -> None:
    problem, output = Problem(), tmp_path / "model.pt"
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        fit(problem.model, problem.optimiser, Config(), problem.batch_loss, problem.validate, output, resume=True)
    fit(problem.model, problem.optimiser, Config(max_steps=2), problem.batch_loss, problem.validate, output)
    with pytest.raises(ValueError, match="another config"):
        fit(problem.model, problem.optimiser, Config(), problem.batch_loss, problem.validate, output, resume=True)


def test_the_learning_rate_warms_up_then_decays_to_zero() -> None:
    config = Config(learning_rate=1.0, warmup_steps=4)
    assert [learning_rate(step, 0.0, config) for step in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert learning_rate(10, 0.5, config) == pytest.approx(0.5)
    assert learning_rate(10, 1.0, config) == pytest.approx(0.0)
