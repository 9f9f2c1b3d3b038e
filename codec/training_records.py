"""What training reports: progress means, the final summary, and the divergence error."""

from __future__ import annotations

from dataclasses import dataclass


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or infinite."""

    def __init__(self, step: int, loss: float, detail: str) -> None:
        super().__init__(f"training diverged at step {step}: loss {loss}, {detail}")
        self.step = step
        self.loss = loss


@dataclass(frozen=True)
class TrainingProgress:
    """Means over the steps since the previous report."""

    step: int
    steps: int
    loss: float
    bpp: float
    mse: float
    psnr: float  # estimate from the mean MSE of the noisy training forward, dB
    learning_rate: float
    elapsed_s: float


@dataclass(frozen=True)
class TrainingReport:
    """Means over the last tenth of the steps (and the first tenth, to show progress)."""

    final_loss: float
    initial_loss: float
    bpp: float  # likelihood estimate on training crops, not a real bitstream
    mse: float
    psnr: float
    steps_done: int
    seconds: float


@dataclass
class LossWindow:
    """Running sums for averaging losses over a span of steps."""

    loss: float = 0.0
    bpp: float = 0.0
    mse: float = 0.0
    count: int = 0

    def add(self, loss: float, bpp: float, mse: float) -> None:
        self.loss += loss
        self.bpp += bpp
        self.mse += mse
        self.count += 1

    def means(self) -> tuple[float, float, float]:
        n = max(self.count, 1)
        return self.loss / n, self.bpp / n, self.mse / n
