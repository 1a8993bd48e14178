"""Judges of what A3 trains: create_solver_instance's Solver, and the work judged on CIFAR-10
(the overfitting searches' values and the best models' checkpoints), "not graded" where the data
is not on the grading machine."""
import math
from typing import List, Optional

import torch

from .....cases import Verdict, failed, passed
from .....checkpoints import load_checkpoint
from .....judges import outcome_failure
from .....mode import instructor_module


def judge_solver_instance(case, payload, reply, answer, device_type) -> Verdict:
    """A Solver built on a TwoLayerNet and the data given, with the device given, returned (the
    50% validation accuracy it must reach needs CIFAR-10: not judged here). The TwoLayerNet the
    given line builds is a stand-in: the constructor is graded on its own."""
    verdict = outcome_failure(reply, "create_solver_instance")
    if verdict:
        return verdict
    data = reply.data
    if not data.get("made"):
        return failed("create_solver_instance must build a Solver (solver = Solver(model, data_dict, ...))", "values")
    problems: List[str] = []
    if not data.get("returned"):
        problems.append("the Solver built is not the one returned (return solver)")
    subclass = data.get("subclass")
    if subclass:
        defines = ", ".join(subclass.get("defines") or []) or "nothing"
        problems.append(f"the Solver built is a {subclass.get('name')}, a subclass of Solver (defining {defines}): "
                        "build the Solver given (Solver(model, data_dict, ...)), whose train is the one graded")
    if data.get("model") not in ("TwoLayerNet", "FullyConnectedNet"):
        problems.append(f"the Solver trains a {data.get('model')}, not the model made (a TwoLayerNet)")
    if not data.get("same_data"):
        problems.append("the Solver must be given data_dict itself")
    kwargs = data.get("kwargs", {})
    device = kwargs.get("device")
    if device is None and device_type != "cpu":
        problems.append("the Solver was given no device, so it trains on its default 'cpu' while the model is on "
                        f"{device_type}: pass device=device")
    elif device is not None and (device.get("kind") != "str" or device["value"].split(":")[0] != device_type):
        shown = device.get("value", device.get("kind"))
        problems.append(f"the Solver was given device={shown!r} while create_solver_instance was called with "
                        f"device={device_type!r}: pass the device given (device=device), never a device written out")
    problems += _cannot_train(kwargs)
    if problems:
        return failed("; ".join(problems), "values")
    notes = ["note: whether training reaches 50% validation accuracy is not judged here (it takes minutes on "
             "CIFAR-10): the net the notebook trains with it, best_two_layer_net.pth, is evaluated against that "
             "target"]
    if device is None:
        notes.append("note: the Solver was given no device, so it trains on its default 'cpu': right here, but on the "
                     "GPU the course runs this on, the model and the batches would be on different devices (pass "
                     "device=device)")
    return passed(warnings=notes)


def _number(desc):
    return float(desc["value"]) if isinstance(desc, dict) and desc.get("kind") == "number" else None


def _cannot_train(kwargs) -> List[str]:
    """Settings with which the Solver trains nothing: no epoch, or a learning rate of 0 or less
    (the 50% it must reach is not measured here, but such a Solver cannot reach it)."""
    problems = []
    epochs = _number(kwargs.get("num_epochs"))
    if epochs is not None and epochs < 1:
        problems.append(f"num_epochs={epochs:g}: the Solver would train no epoch")
    config = kwargs.get("optim_config")
    items = config.get("items") if isinstance(config, dict) and config.get("kind") == "map" else {}
    rate = _number(items.get("learning_rate")) if isinstance(items, dict) else None
    if rate is not None and rate < 1e-12:
        problems.append(f"optim_config's learning_rate={rate:g}: the Solver would not move the weights")
    decay = _number(kwargs.get("lr_decay"))
    if decay is not None and decay <= 0:
        problems.append(f"lr_decay={decay:g}: the learning rate would be 0 after the first epoch")
    batch = _number(kwargs.get("batch_size"))
    if batch is not None and batch < 1:
        problems.append(f"batch_size={batch:g}: the Solver cannot draw a batch")
    return problems


def _evaluation(data_dir):
    """(A3's CIFAR-10 evaluation, or None in a handout; why the data cannot be had, or None)."""
    evaluate = instructor_module("evaluate", "a3")
    if evaluate is None:
        return None, None
    return evaluate, evaluate.data_problem(data_dir)


def _data_dir(payload):
    if isinstance(payload, dict) and payload.get("data_dir"):
        return payload["data_dir"]
    from helpers.data import default_data_dir

    return str(default_data_dir())


# The (weight_scale, learning_rate) the template's given lines start the searches from
TEMPLATE_SEARCH_VALUES = {"get_three_layer_network_params": (1e-2, 1e-4),
                          "get_five_layer_network_params": (1e-5, 2e-3)}


def judge_search_values(case, payload, reply, answer, device_type) -> Verdict:
    """Two positive finite numbers, which overfit 50 CIFAR-10 samples within 20 epochs when the
    solution's network is trained with them as the notebook trains it; "not graded" without
    CIFAR-10 on the grading machine."""
    verdict = outcome_failure(reply, case.function)
    if verdict:
        return verdict
    value = reply.data["outcome"]["value"]
    items = value.get("items", []) if isinstance(value, dict) and value.get("kind") == "seq" else []
    numbers = [i.get("value") for i in items if i.get("kind") == "number" and i.get("type") != "bool"]
    if len(items) != 2 or len(numbers) != 2 or not all(math.isfinite(v) and v > 0 for v in numbers):
        return failed("must return (weight_scale, learning_rate), two positive numbers", "values")
    ws, lr = numbers
    if (ws, lr) == TEMPLATE_SEARCH_VALUES.get(case.function):
        return failed(f"returns the template's starting values (weight_scale={ws:g}, learning_rate={lr:g}) "
                      "unchanged: the search is not done (the template gives them to be changed, and they do not "
                      "overfit the 50 samples in 20 epochs)", "values")
    data_dir = _data_dir(payload)
    evaluate, problem = _evaluation(data_dir)
    if evaluate is None:
        return Verdict("not graded", f"returns weight_scale={ws:g}, learning_rate={lr:g}; the course staff trains "
                       "with them on CIFAR-10 (the notebook's target: 100% training accuracy on 50 samples within "
                       "20 epochs)", reason="evaluated later")
    if problem:
        return Verdict("not graded", f"returns weight_scale={ws:g}, learning_rate={lr:g}; whether they reach 100% "
                       "training accuracy on 50 CIFAR-10 samples within 20 epochs needs CIFAR-10, which is not on "
                       "the grading machine", reason="no data", setup_note=problem)
    best = evaluate.overfit_accuracy(case.function, ws, lr, data_dir)
    if best >= 1.0:
        return passed()
    return failed(f"with weight_scale={ws:g} and learning_rate={lr:g} the network reaches {best:.0%} training "
                  "accuracy on the 50 samples within 20 epochs, not 100%", "values")


# The notebook's targets, and the networks it saves: TwoLayerNet (two linear layers) and
# FullyConnectedNet([100] * 4) (five), from CIFAR-10's 3 * 32 * 32 inputs to its 10 classes.
BEST_TARGETS = {"best_two_layer_net.pth": ("validation", 0.50), "best_overfit_five_layer_net.pth": ("training", 1.0)}
BEST_LAYERS = {"best_two_layer_net.pth": 2, "best_overfit_five_layer_net.pth": 5}
INPUT_DIM, NUM_CLASSES = 3 * 32 * 32, 10


def network_problem(name: str, state) -> Optional[str]:
    """Why ``state`` is not the checkpoint of the network ``name`` names (as the networks' save
    methods write it: a dict whose 'params' are W1..WL, b1..bL, linear layers from CIFAR-10's
    3072 inputs to its 10 classes), or None."""
    params = state.get("params") if isinstance(state, dict) else None
    if not isinstance(params, dict) or not all(isinstance(k, str) and torch.is_tensor(v) and v.layout == torch.strided
                                               for k, v in params.items()):
        found = sorted(map(str, state))[:10] if isinstance(state, dict) else type(state).__name__
        return (f"{name} must hold what the network's save method writes (a dict whose 'params' is a dict of "
                f"dense tensors); found {found}")
    layers = BEST_LAYERS[name]
    want = {f"{k}{i}" for i in range(1, layers + 1) for k in "Wb"}
    if set(params) != want:
        return (f"{name} holds the parameters {sorted(params)[:12]}; the network the notebook saves here has "
                f"{layers} linear layers: {', '.join(sorted(want, key=lambda k: (k[1:], k[0])))}")
    fan_in = INPUT_DIM
    for i in range(1, layers + 1):
        W, b = params[f"W{i}"], params[f"b{i}"]
        out = NUM_CLASSES if i == layers else (W.shape[1] if W.dim() == 2 else -1)
        if W.dim() != 2 or tuple(W.shape) != (fan_in, out) or tuple(b.shape) != (out,):
            return (f"{name}: W{i} has shape {tuple(W.shape)} and b{i} {tuple(b.shape)}; layer {i} must map "
                    f"{fan_in} inputs to {'the 10 classes' if i == layers else 'its hidden units'} (W{i} "
                    f"({fan_in}, {out if out > 0 else 'H'}), b{i} of that many entries)")
        if not W.is_floating_point() or not b.is_floating_point():
            return f"{name}: W{i} and b{i} must be floating-point tensors"
        fan_in = out
    return None


def judge_best_models(case, payload, reply, answer, device_type) -> Verdict:
    """A checkpoint's accuracy on CIFAR-10 (the notebook's targets: 50% on validation for the
    two-layer net, 100% on the 50 samples the five-layer net overfits); "not graded" without
    the data. It is loaded as every best model is (bounded, ``weights_only``) and must be the
    network the notebook saves; in a handout that is all that is checked."""
    name = case.params["file"]
    path = next((d / name for d in payload["checkpoint_dirs"] if (d / name).is_file()), None)
    evaluate, problem = _evaluation(payload.get("data_dir"))
    if problem and evaluate:
        return Verdict("not graded", f"{name} was {'found' if path else 'not found'}; it is evaluated on CIFAR-10, "
                       "which is not on the grading machine", reason="no data", setup_note=problem)
    if path is None:
        if evaluate is None:
            return Verdict("not graded", f"{name} was not found; save it from the notebook (the course staff "
                           "evaluates it on CIFAR-10)", reason="missing")
        return failed(f"{name} was not submitted (save it from the notebook)", "missing")
    state, problem = load_checkpoint(path, name)
    if problem:
        return failed(problem, "error")
    problem = network_problem(name, state)
    if problem:
        return failed(problem, "values")
    which, target = BEST_TARGETS[name]
    if evaluate is None:
        return Verdict("not graded", f"{name} loads and is the network the notebook saves; the course staff "
                       f"evaluates it on CIFAR-10 (target: {which} accuracy of {target:.0%} or more)",
                       reason="evaluated later")
    try:
        accuracy = evaluate.checkpoint_accuracy(name, state, payload["data_dir"])
    except (RuntimeError, ValueError, TypeError) as exc:  # tensors of a kind the scores cannot be computed with
        return failed(f"{name} could not be evaluated: {type(exc).__name__}: {str(exc)[:300]} (save it with the "
                      "network's save method)", "error")
    if accuracy >= target:
        return passed(f"{which} accuracy {accuracy:.1%}")
    return failed(f"{name}: {which} accuracy {accuracy:.1%}, below the notebook's target of {target:.0%}", "values")
