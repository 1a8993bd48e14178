"""The engine's generic pieces that A3's unit uses, imported from one place: the probe registry
and call probe, the stand-ins' table helpers, the instructor's lazy list, the mistakes runner.
(While the engine is being split, some of them still live in A2's unit; this module is the one
place that knows where.)"""
try:  # the engine's own modules
    from ...student_side.probes import (Context, _missing, _snapshot, mutated_paths, outcome_dict, probe,  # noqa: F401
                                        probe_call, to_device)
    from ...student_side.standins import Substitutes, same_tensor, unseen  # noqa: F401
except ImportError:  # not moved out of A2's unit yet
    from ..a2.student_side.probes import (Context, _missing, _snapshot, mutated_paths, outcome_dict, probe,  # noqa: F401
                                          probe_call, to_device)
    from ..a2.student_side.standins import Substitutes, same_tensor, unseen  # noqa: F401


def instructor():
    """(Later, upcast, detached, results, ReferenceUnavailable, BEGIN) from the engine's
    instructor side (imported on demand: the student side never reaches it)."""
    try:
        from ...instructor.recipes import Later, upcast
        from ...instructor.mistakes import detached, results
        from ...instructor.reference import ReferenceUnavailable
    except ImportError:
        from ..a2.instructor.recipes import Later, upcast
        from ..a2.instructor.mistakes import detached, results
        from ..a2.instructor.reference import ReferenceUnavailable
    from ...instructor.stubs import BEGIN
    return Later, upcast, detached, results, ReferenceUnavailable, BEGIN
