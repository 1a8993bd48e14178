"""``similarity.csv``: one row per student pair and per student x reference pair (all of them,
zeros included, highest score first), then one per entry that could not be read. Written
through :class:`grader.inert.InertWriter`: no cell starts a spreadsheet formula, whatever the
student named a folder."""
import io
import itertools
from typing import Dict, List, Tuple

from ...inert import InertWriter
from .measure import MIN_TOKENS, Match
from .read import Broken, Code

CSV_HEADER = ["kind", "a", "b", "score", "percent_a", "percent_b", "tokens_a", "tokens_b", "written_a",
              "written_b", "shared_functions", "note"]


def similarity_csv(students: List[Code], pairs: Dict[Tuple[int, int], Match],
                   ref_matches: Dict[Tuple[int, int], Match], references: List[Code],
                   broken: List[Broken]) -> str:
    """One row per student pair and per student x reference pair (all of them, zeros
    included, highest score first), then one per entry that could not be read."""
    buffer = io.StringIO()
    writer = InertWriter(buffer, lineterminator="\n")  # no cell starts a spreadsheet formula
    writer.writerow(CSV_HEADER)

    def rows(found, kind, left, right, all_pairs):
        listed = sorted(found.values(), key=Match.sort_key)
        for m in listed:
            writer.writerow([kind, m.a.id, m.b.id, f"{m.score:.2f}", f"{m.percent_a:.2f}", f"{m.percent_b:.2f}",
                             m.tokens_a, m.tokens_b, m.a.written, m.b.written, " ".join(m.shared),
                             "" if m.counts else f"fewer than {MIN_TOKENS} tokens shared: ranked after the others"])
        for x, y in all_pairs:
            if (x, y) not in found:
                writer.writerow([kind, left[x].id, right[y].id, "0.00", "0.00", "0.00", 0, 0, left[x].written,
                                 right[y].written, "", ""])

    rows(pairs, "pair", students, students, itertools.combinations(range(len(students)), 2))
    rows(ref_matches, "reference", students, references,
         itertools.product(range(len(students)), range(len(references))))
    for b in broken:
        writer.writerow(["not compared", b.id, "", "", "", "", "", "", "", "", "", f"{b.kind}: {b.why}"])
    return buffer.getvalue()
