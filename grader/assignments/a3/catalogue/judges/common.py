"""What A3's judges share: a reply's tensor read back, and a failed verdict that names the known
mistakes explaining it."""
import dataclasses


def tensor_of(desc):
    """A tensor as the capture describes it, in float64; None for anything else."""
    return desc["value"].double() if isinstance(desc, dict) and desc.get("kind") == "tensor" else None


def with_causes(verdict, causes):
    """A failed verdict that names known mistakes: the outputs they explain count as computed
    (wrong the way a known mistake is: honest code), as the engine's judges record them."""
    if not causes:
        return verdict
    outputs = tuple(dict.fromkeys(o for _, paths in causes for o in paths))
    return dataclasses.replace(verdict, causes=tuple(causes), vouches=True, computed=outputs)
