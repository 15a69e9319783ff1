"""Branch and bound over a list of candidates: exact top-k without solving every candidate.

Each candidate has an upper bound on its score that costs no solve. Candidates are solved in
batches, best bound first (through one ``evaluate`` call per batch, so a vectorized kernel can
answer a batch at once); the search stops when no remaining bound reaches the ``keep``-th best
score found, so the best ``keep`` are exact. Candidates may share a *group*: once one member is
solved, ``learn`` reads from its result a tighter bound for the others (``refine``), and a
sibling waits for its group's first member instead of being solved in the same batch.

The bounds are checked as the search goes: a solved score above its bound, or two members of a
group that teach different bounds, turns the pruning off (every candidate is then solved) and
says so in a note — a search whose bound stops holding is slower, never wrong.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BranchAndBound", "Outcome"]

#: A solved score above its bound by more than this says the bound does not hold.
_TOLERANCE = 1e-9


@dataclass
class Outcome:
    """What the search solved: (index, result) pairs, the best ``keep`` indices, notes."""

    solved: list[tuple[int, Any]] = field(default_factory=list)
    top: list[int] = field(default_factory=list)  # best first
    bounded: int = 0
    notes: list[str] = field(default_factory=list)


class BranchAndBound:
    """See the module doc. ``score(result)`` is None for an infeasible result."""

    def __init__(
        self,
        bounds: Sequence[float],
        evaluate: Callable[[list[int]], list[Any]],
        score: Callable[[Any], float | None],
        *,
        keep: int,
        exhaustive: bool = False,
        batch: int = 64,
        group: Callable[[int], Hashable] | None = None,
        learn: Callable[[Any], Any] | None = None,
        refine: Callable[[Any, int], float] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.bounds = bounds
        self.evaluate = evaluate
        self.score = score
        self.keep = max(1, keep)
        self.exhaustive = exhaustive
        self.batch = batch
        self.group, self.learn, self.refine = group, learn, refine
        self.progress = progress
        self.taught: dict[Hashable, Any] = {}
        self.dropped: list[int] = []  # bounded out so far (solved after all if a bound fails)
        self.best: list[tuple[float, int]] = []  # min-heap of (score, -index)
        self.out = Outcome()

    def _threshold(self) -> float:
        return self.best[0][0] if len(self.best) >= self.keep and not self.exhaustive else -1.0

    def run(self) -> Outcome:
        total = len(self.bounds)
        queue = deque(sorted(range(total), key=lambda i: -self.bounds[i]))
        done = 0
        while queue:
            batch, waiting, _pending = self._next_batch(queue)
            if not batch and not waiting:
                break
            if batch:
                for i, r in zip(batch, self.evaluate(batch), strict=True):
                    self._record(i, r)
                done += len(batch)
                if self.progress is not None:
                    self.progress(done, total)
            queue.extendleft(reversed(waiting))
            if self.exhaustive and self.dropped:
                queue.extend(self.dropped)
                self.dropped = []
        self.out.bounded = total - done
        if self.progress is not None and done < total:
            self.progress(total, total)
        self.out.top = [-i for _, i in sorted(self.best, reverse=True)]
        return self.out

    def _next_batch(self, queue: deque[int]) -> tuple[list[int], list[int], set[Hashable]]:
        """The next candidates to solve; siblings of a member in this batch wait for it."""
        batch: list[int] = []
        waiting: list[int] = []
        pending: set[Hashable] = set()
        grouped = self.group is not None and not self.exhaustive
        while queue and len(batch) < self.batch:
            i = queue.popleft()
            thr = self._threshold()
            if self.bounds[i] < thr:
                self.dropped += [i, *queue]  # every later bound is lower still
                queue.clear()
                break
            if grouped:
                g = self.group(i)  # type: ignore[misc]
                if g in self.taught:
                    if self.refine(self.taught[g], i) < thr:  # type: ignore[misc]
                        self.dropped.append(i)
                        continue
                elif g in pending:
                    waiting.append(i)
                    continue
                else:
                    pending.add(g)
            batch.append(i)
        return batch, waiting, pending

    def _record(self, i: int, r: Any) -> None:
        self.out.solved.append((i, r))
        s = self.score(r)
        if s is None:
            return
        if s > self.bounds[i] * (1.0 + _TOLERANCE) and not self.exhaustive:
            self.exhaustive = True
            self.out.notes.append(
                "a solved candidate beat its bound, so the bound does not hold for this "
                "model: every candidate was solved"
            )
        if self.group is not None and self.learn is not None and not self.exhaustive:
            g, lesson = self.group(i), self.learn(r)
            known = self.taught.get(g)
            if known is None:
                self.taught[g] = lesson
            elif not _close(known, lesson):
                self.exhaustive = True
                self.out.notes.append(
                    "two candidates of one group taught different bounds: every candidate "
                    "was solved"
                )
        entry = (s, -i)
        if len(self.best) < self.keep:
            heapq.heappush(self.best, entry)
        elif entry > self.best[0]:
            heapq.heapreplace(self.best, entry)


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1e-300)
    return bool(a == b)
