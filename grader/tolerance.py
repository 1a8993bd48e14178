"""The one tolerance table of the grader.

A value ``a`` passes against the float64 reference ``e`` when
``|a - e| <= atol * scale + rtol * |e|`` element by element, where ``scale`` is the largest
magnitude in the expected tensor (at least 1). Scaling atol this way lets one table serve
values of every size: losses near 1, gradients near 1e-4 and scores near 1e4 alike.

Rows are looked up by the dtype of the student's result and the device the case ran on.
float32 results are judged against the float64 reference, hence their looser row; CUDA rows
are looser again because reductions on the GPU sum in a different order.
"""
from typing import Dict, Tuple

import torch

TOLERANCES: Dict[Tuple[torch.dtype, str], Tuple[float, float]] = {
    # (dtype, device type): (rtol, atol)
    (torch.float64, "cpu"): (1e-7, 1e-9),
    (torch.float64, "cuda"): (1e-7, 1e-9),
    (torch.float32, "cpu"): (1e-4, 2e-5),
    (torch.float32, "cuda"): (1e-3, 1e-4),
}
# Integer results (labels) and booleans must match exactly.


def tolerance_for(dtype: torch.dtype, device_type: str) -> Tuple[float, float]:
    """(rtol, atol) for results of ``dtype`` computed on ``device_type``."""
    if not dtype.is_floating_point:
        return 0.0, 0.0
    key = (dtype if dtype in (torch.float32, torch.float64) else torch.float32, device_type)
    return TOLERANCES.get(key, TOLERANCES[(key[0], "cuda")])


def table_markdown() -> str:
    """The table as Markdown, for docs/grading.md and ``python -m grader points``."""
    rows = ["| dtype | device | rtol | atol (x largest expected magnitude) |", "|---|---|---|---|"]
    for (dtype, device), (rtol, atol) in TOLERANCES.items():
        rows.append(f"| {str(dtype).replace('torch.', '')} | {device} | {rtol:g} | {atol:g} |")
    rows.append("| int64, bool | any | exact | exact |")
    return "\n".join(rows)
