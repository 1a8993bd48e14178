"""Cases for ``two_layer_net.py``: what each checks, and its judge."""
import math
from typing import List, Optional

import torch

from ....cases import PUBLIC, Case, Verdict, failed, passed
from ....compare import compare
from ....judges import error_verdict, judge_numeric_grad, judge_values, outcome_failure, raised
from ..student_side.standins import standin_net_outputs
from .localise import place_loss_terms
from ....catalogue.common import DEVICE_POINTS, accuracy_problem, device_case, round_trip_notes, search_judge

F32, F64 = torch.float32, torch.float64
MODULE = "two_layer_net"
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def net_params(seed=None, N=None, D=None, H=None, C=None, dtype=F64, scale=0.1, x_scale=1.0, offset=0.0):
    """Recipe settings of a net problem: the toy data (no seed) or random parameters and data.
    With ``offset``, b2 is about ``offset`` in every class: scores near it, within a few tens of
    each other, so an unshifted exp() overflows and a shifted one does not."""
    if seed is None:
        return {"problem": "toy", "dtype": str(dtype)}
    return {"problem": "random", "seed": seed, "N": N, "D": D, "H": H, "C": C, "dtype": str(dtype),
            "scale": scale, "x_scale": x_scale, "offset": offset, "stability": offset > 0}


def forward_case(name, points, visibility, params, dtype):
    judge = judge_values(names=("scores", "hidden"), rules=("no_relu",), wider_dtype=True)
    return Case("nn_forward_pass", name, points, visibility, "call", judge, "net_call",
                {**params, "module": MODULE, "function": "nn_forward_pass"}, dtype)


def backward_case(name, points, visibility, params, dtype, reg):
    """A value case of nn_forward_backward; its nn_forward_pass answers from a table of the true
    forward pass, so a bug in the student's forward pass costs points only there."""
    judge = judge_values(names=("loss", "grads"), place=place_loss_terms, wider_dtype=True)
    return Case("nn_forward_backward", name, points, visibility, "call", judge, "net_call",
                {**params, "module": MODULE, "function": "nn_forward_backward", "reg": reg}, dtype,
                standins=("nn_forward_pass",), gradients=("grads",))


WITHOUT_Y = "nn_forward_backward(params, X) without y (y=None)"


def judge_scores_without_y(case, payload, reply, answer, device_type) -> Verdict:
    """The docstring: without labels, nn_forward_backward returns the scores (TwoLayerNet.loss(X)
    and TwoLayerNet.predict rely on it)."""
    verdict = outcome_failure(reply, WITHOUT_Y)
    if verdict and "NoneType" in verdict.message:
        return failed(verdict.message, verdict.reason, "Likely cause: y is used before the given `if y is None: "
                      "return scores`; without labels nn_forward_backward returns the scores, and "
                      "TwoLayerNet.loss(X) and TwoLayerNet.predict rely on it.")
    if verdict:
        return verdict
    if reply.data.get("not_implemented"):  # the given `if y is None: return scores` alone earns nothing
        return error_verdict(reply.data["not_implemented"])
    verdict = judge_values(wider_dtype=True)(case, payload, reply, answer, device_type)
    if verdict.passed:
        return verdict
    return failed(f"{WITHOUT_Y} must return the scores (N, C): {verdict.message}", verdict.reason,
                  verdict.diagnosis, verdict.warnings)


def scores_case(name, points, visibility, params, dtype):
    """nn_forward_backward called without y; its nn_forward_pass answers from a table of the true
    forward pass, as in the other cases. A stub passes nothing: the given ``if y is None: return
    scores`` is not the student's work."""
    return Case("nn_forward_backward", name, points, visibility, "scores_without_y", judge_scores_without_y,
                "net_call", {**params, "module": MODULE, "function": "nn_forward_backward", "without_y": True,
                             "reg": 0.1}, dtype, standins=("nn_forward_pass",), form=True)


def _numeric_cases(points) -> List[Case]:
    return [Case("nn_forward_backward", f"grads['{wrt}'] matches numeric differences of your loss", points, PUBLIC,
                 "numeric_grad", judge_numeric_grad, "net_numeric", {"seed": 65, "wrt": wrt}, form=True,
                 output=f"grads['{wrt}']", fresh=True) for wrt in PARAM_NAMES]


# ------------------------------------------------------------------ nn_train and nn_predict

def judge_nn_train(case, payload, reply, answer, device_type) -> Verdict:
    verdict = outcome_failure(reply)
    if verdict:
        return verdict
    calls, preds, out = reply.data["calls"], reply.data["pred_calls"], reply.data["outcome"]["value"]
    n, B = payload["num_iters"], payload["batch_size"]
    if len(calls) != n:
        return failed(f"loss_func was called with labels {len(calls)} times for num_iters={n}", "values")
    per_epoch = max(payload["X"].shape[0] // B, 1)
    lr = payload["lr"]
    current = {k: v.to(F64) for k, v in payload["params"].items()}
    previous, previous_lr = dict(current), lr
    grads, losses = standin_net_outputs(payload["seed"], payload["params"], payload["X"].dtype, n)
    for it, call in enumerate(calls):
        if call["reg"].get("value") != payload["reg"]:
            return failed(f"iteration {it}: loss_func got reg={call['reg'].get('value')!r}, expected {payload['reg']}", "values")
        xb = call["X_batch"]
        if xb.get("kind") != "tensor" or tuple(xb["value"].shape) != (B, payload["X"].shape[1]):
            return failed(f"iteration {it}: the batch must be sample_batch(X, y, num_train, {B})", "values")
        for name in PARAM_NAMES:
            seen = call["params"].get(name, {})
            if seen.get("kind") != "tensor" or not torch.allclose(seen["value"].to(F64), current[name], rtol=1e-9, atol=1e-12):
                before = "the initial value" if it == 0 else f"the previous value minus lr * grads['{name}']"
                step = _step_taken(seen, previous[name], grads[it - 1][name]) if it else None
                words = _step_words(step, previous_lr, it - 1)
                if words and "used a rate" not in words:  # no learning rate at all, or no step
                    return failed(f"iteration {it}: params['{name}'] is not {before}{words}", "values")
                return failed(f"iteration {it}: params['{name}'] is not {before}; with learning_rate_decay the "
                              f"rate for this step is {lr:g} (it decays after every iteration with "
                              f"it % iterations_per_epoch == 0, it = 0 included){words}", "values")
            previous[name] = current[name]
            current[name] = current[name] - lr * grads[it][name]
        previous_lr = lr
        if it % per_epoch == 0:
            lr *= payload["decay"]
    final = reply.data["final_params"]
    if final.get("kind") != "map" or any(
            final["items"].get(k, {}).get("kind") != "tensor"
            or not torch.allclose(final["items"][k]["value"].to(F64), current[k], rtol=1e-9, atol=1e-12) for k in PARAM_NAMES):
        return failed("after nn_train, the caller's params do not hold the result of the last SGD step "
                      "(update params in place)", "values")
    return _judge_histories(out, calls, preds, payload, per_epoch, losses)


def _step_taken(seen, before, grad):
    """The rate r with seen == before - r * grad, when the last step was a multiple of the
    gradient; else None."""
    if seen.get("kind") != "tensor":
        return None
    value, grad = seen["value"].to(F64), grad.to(F64)
    norm = float((grad * grad).sum())
    if norm == 0.0:
        return None
    rate = float(((before - value) * grad).sum()) / norm
    return rate if torch.allclose(value, before - rate * grad, rtol=1e-7, atol=1e-10) else None


def _step_words(rate, want, it) -> str:
    """What the step of iteration ``it`` did, in words, when it was a multiple of the gradient."""
    if rate is None:
        return ""
    if abs(rate) < 1e-12:
        return f": the step of iteration {it} did not change it (update every param in place)"
    if abs(rate - 1.0) < 1e-9 and abs(want - 1.0) > 1e-9:
        return (f": the step of iteration {it} subtracted the gradient itself, without the learning rate "
                f"(params[name] -= learning_rate * grads[name], with learning_rate {want:g} there)")
    return f": the step of iteration {it} used a rate of {rate:g} instead of {want:g}"


def _judge_histories(out, calls, preds, payload, per_epoch, losses) -> Verdict:
    if out.get("kind") != "map" or set(out["items"]) != {"loss_history", "train_acc_history", "val_acc_history"}:
        return failed("nn_train must return a dict with loss_history, train_acc_history and val_acc_history", "values")
    got = [i.get("value") for i in out["items"]["loss_history"].get("items", [])]
    if len(got) != len(calls) or any(not isinstance(g, float) or not math.isclose(g, want, rel_tol=1e-6)
                                      for g, want in zip(got, losses)):
        return failed("loss_history must hold loss.item() of every iteration", "values")
    epochs = [it for it in range(payload["num_iters"]) if it % per_epoch == 0]
    if len(preds) != 2 * len(epochs):
        return failed(f"pred_func was called {len(preds)} times; expected 2 per epoch end (iterations {epochs})", "values")
    train_acc, val_acc = [], []
    for k, it in enumerate(epochs):
        xb, yb = calls[it]["X_batch"]["value"], calls[it]["y_batch"]["value"]
        if not torch.equal(preds[2 * k]["X"]["value"], xb):
            return failed(f"iteration {it}: train accuracy must be measured on the current batch", "values")
        if not torch.equal(preds[2 * k + 1]["X"]["value"], payload["X_val"]):
            return failed(f"iteration {it}: validation accuracy must be measured on X_val", "values")
        train_acc.append((preds[2 * k]["labels"] == yb).double().mean().item())
        val_acc.append((preds[2 * k + 1]["labels"] == payload["y_val"]).double().mean().item())
    for name, want in (("train_acc_history", train_acc), ("val_acc_history", val_acc)):
        items = out["items"][name].get("items", [])
        if len(items) != len(want):
            return failed(f"{name} has {len(items)} entries, expected one per epoch end ({len(want)})", "values")
        problem = accuracy_problem([(f"{name}[{i}]", d, w) for i, (d, w) in enumerate(zip(items, want))],
                                   "that epoch's")
        if problem:
            return failed(problem, "values")
    return passed()


def judge_nn_predict(case, payload, reply, answer, device_type) -> Verdict:
    return judge_values()(case, payload, reply, answer, device_type)


# ------------------------------------------------------------------ find_best_net

def _net_problem(payload, nets, device_type, fatal=True):
    """What is wrong with the nets find_best_net built, as (message, likely cause), or None.
    ``fatal``: the problems that stop the search on the course's data (an input size, dtype or
    device the data does not have, fewer classes than the labels: train() raises); else the
    ones it runs with (a hidden size off the grid, more classes than the labels: the nets
    train, and the search's own bookkeeping can still be judged)."""
    hiddens = payload["grid"][1]
    D, C = payload["data"]["X_train"].shape[1], int(payload["data"]["y_train"].max()) + 1
    for net in nets:
        size_in, hidden, size_out = net["sizes"]
        if fatal and size_in != D:
            return (f"a TwoLayerNet was built with input size {size_in!r}; the data has {D} inputs "
                    f"(CIFAR-10's 3 * 32 * 32)", "the input size must match the data")
        if size_out != C and fatal == (not isinstance(size_out, int) or size_out < C):
            samples = payload["data"]["y_train"].shape[0]
            why = (f" ({samples} is the number of training samples: y_train.shape[0] counts samples, and so does "
                   "len(set(y_train)) of a tensor, whose elements hash by identity; count the classes with "
                   "len(set(y_train.tolist())) or y_train.unique().numel())" if size_out == samples else "")
            return (f"a TwoLayerNet was built with {size_out!r} classes; the data has {C}{why}",
                    "the number of classes must match the labels (CIFAR-10 has 10)")
        if not fatal and hidden not in hiddens:
            return (f"a TwoLayerNet was built with hidden size {hidden!r}, which is not in the grid {hiddens}",
                    "take the hidden sizes from get_param_set_fn()")
        if fatal and net["dtype"] != str(payload["data"]["X_train"].dtype):
            return (f"a TwoLayerNet was built with dtype {net['dtype']}; the data is "
                    f"{payload['data']['X_train'].dtype}", "pass dtype=data_dict['X_train'].dtype")
        if fatal and net["device"].split(":")[0] not in (device_type, "cuda"):  # "cuda": the course's GPU
            return (f"a TwoLayerNet was built on {net['device']} while the data is on {device_type}",
                    "pass device=data_dict['X_train'].device")
    return None


def _grid_problem(payload, nets):
    """What is wrong with how the nets were trained over the grid, as (message, likely cause), or None."""
    lrs, hiddens, regs, decays = payload["grid"]
    combos = len(lrs) * len(hiddens) * len(regs) * len(decays)
    trains = [t for net in nets for t in net["trains"]]
    lists = {"learning_rate": lrs, "reg": regs, "learning_rate_decay": decays}
    grid_names = {"learning_rate": "learning_rates", "reg": "regularization_strengths",
                  "learning_rate_decay": "learning_rate_decays"}
    if len(nets) != combos or len(trains) != combos:
        ignored = []  # a list of the grid that no training used: its loop is missing
        for name, grid in lists.items():
            used = {str(t[name]) for t in trains}
            if trains and not used & {str(v) for v in grid}:
                ignored.append(f"every net was trained with {name}={'/'.join(sorted(used))}, not a value of the "
                               f"grid's {grid_names[name]}")
        return (f"find_best_net built {len(nets)} net(s) and trained {len(trains)} time(s) for "
                f"the {combos} combinations of the grid" + "".join(f"; {i}" for i in ignored),
                "train one new TwoLayerNet per combination of get_param_set_fn()"
                + (" (a loop over every list, each value passed to train())" if ignored else ""))

    def as_used(grid):  # each value of a list, as often as the combinations use it
        return sorted(str(v) for v in grid for _ in range(combos // len(grid)))

    for name, grid in lists.items():
        used = sorted(str(t[name]) for t in trains)
        wanted = as_used(grid)
        if used != wanted:
            grid_name = grid_names[name]
            other = next((o for o, values in lists.items() if o != name and as_used(values) == used), None)
            if other:
                return (f"train() was called with {name} values {[float(u) for u in used]}, which are the grid's "
                        f"{grid_names[other]}; its {grid_name} are {sorted(set(float(v) for v in grid))}",
                        f"pass {name}= and {other}= from the combination being tried (keyword arguments avoid "
                        "mix-ups)")
            if len(set(used)) == 1 and used[0] not in wanted:
                return (f"every net was trained with {name}={used[0]}, a value the grid does not hold: the "
                        f"search ignores the {grid_name} of get_param_set_fn() (here {sorted(set(wanted))})",
                        f"take {name} from the combination being tried, not a fixed value")
            return (f"train() was called with {name} values {used}; the grid asks for {wanted}",
                    f"pass {name}= from the combination being tried (keyword arguments avoid mix-ups)")
    val = [list(payload["data"][k].shape) for k in ("X_val", "y_val")]
    if any(t["data"][2:] != val for t in trains):
        return ("train() was not given the validation data", "pass data_dict['X_val'], data_dict['y_val']")
    return None


def _lr_key(lr) -> str:
    """How the search case's tables name a learning rate."""
    return repr(float(lr)) if isinstance(lr, (int, float)) else str(lr)


def _search_outcome(reply, payload, device_type, grid_case=False):
    """A failed verdict when find_best_net did not run to its end or built nets that cannot
    fit the data (these cost every part of the case), else None. A search that takes its grid
    from the module's nn_get_search_params() instead of get_param_set_fn() (answered with the
    same grid while it is graded), searches a grid of its own, or builds nets that train on the
    course's data but off the grid (a hidden size the grid lacks, more classes than the labels)
    loses the grid case only."""
    verdict = outcome_failure(reply)
    nets = (reply.data or {}).get("nets") or []
    wrong = _net_problem(payload, nets, device_type) if nets else None
    if wrong:
        also = _grid_problem(payload, nets) if grid_case else None  # the search's own bug, named as well
        return failed(wrong[0] + (f"; and {also[0]}" if also else ""), "values",
                      f"Likely cause: {wrong[1]}" + (f"; and {also[1]}" if also else "") + ".")
    if verdict:
        return verdict
    if not reply.data["asked"] and reply.data.get("direct"):
        if grid_case:
            return failed("find_best_net calls nn_get_search_params() itself instead of get_param_set_fn(): the "
                          "docstring asks for the grid from get_param_set_fn, the function the caller passes", "values",
                          "Likely cause: learning_rates, ... = nn_get_search_params() inside find_best_net; write "
                          "get_param_set_fn() there.")
    elif not reply.data["asked"] and not any(net["trains"] for net in nets):
        return failed("find_best_net never called get_param_set_fn(): take the grid from it (the notebook passes "
                      "nn_get_search_params)", "values")
    elif not reply.data["asked"]:  # a search over a grid of its own: that rule costs the grid case alone
        if grid_case:
            return failed("find_best_net never calls get_param_set_fn(): it searches a grid of its own "
                          f"({_own_grid(nets)}), while the template's docstring asks for the one the caller passes "
                          "(\"You should get hyperparameters from get_param_set_fn.\"); the net it keeps and what it "
                          "returns are judged on the nets it trained", "values",
                          "Likely cause: a grid written inside find_best_net; take learning_rates, hidden_sizes, "
                          "regularization_strengths, learning_rate_decays = get_param_set_fn() and loop over them "
                          "(put your values in nn_get_search_params).")
    elif grid_case and nets and _net_problem(payload, nets, device_type, fatal=False):
        wrong, also = _net_problem(payload, nets, device_type, fatal=False), _grid_problem(payload, nets)
        return failed(wrong[0] + (f"; and {also[0]}" if also else ""), "values",
                      f"Likely cause: {wrong[1]}" + (f"; and {also[1]}" if also else "") + ".")
    value = reply.data["outcome"]["value"]
    if value.get("kind") != "seq" or not isinstance(value.get("length"), int) or value["length"] < 3:
        return failed("find_best_net must return (best_net, best_stat, best_val_acc)", "values")
    return None


def _own_grid(nets) -> str:
    """The values a search over a grid of its own trained with, in a few words."""
    def values(read):
        seen = []
        for value in map(read, nets):
            if value not in seen:
                seen.append(value)
        return "/".join(map(str, seen[:6])) + ("/..." if len(seen) > 6 else "")

    trains = [net for net in nets if net["trains"]]
    return (f"hidden sizes {values(lambda n: n['sizes'][1])}, learning rates "
            f"{values(lambda n: n['trains'][-1]['learning_rate'])}: {len(trains)} net(s) trained")


def _extra_returns(reply) -> Optional[str]:
    """What is wrong with the number of values returned when there are more than three (the
    search's best parameters after the three, say): the first three are judged as the three, and
    only the returns case loses points for the extras."""
    length = reply.data["outcome"]["value"]["length"]
    if length == 3:
        return None
    return (f"find_best_net returns {length} values; the template returns three, (best_net, best_stat, "
            "best_val_acc), and the notebook unpacks exactly three (best_net, best_stat, best_val_acc = "
            "find_best_net(...)), which raises with more: return only those three")


def judge_search_grid(case, payload, reply, answer, device_type) -> Verdict:
    """One new net per combination of the grid, each trained with that combination's values."""
    verdict = _search_outcome(reply, payload, device_type, grid_case=True)
    if verdict:
        return verdict
    wrong = _grid_problem(payload, reply.data["nets"])
    return failed(wrong[0], "values", f"Likely cause: {wrong[1]}.") if wrong else passed()


def _combo_key(lr, decay) -> str:
    return f"{_lr_key(lr)} {_lr_key(decay)}"


def _trained_with(net):
    """(learning_rate, learning_rate_decay) of a net's last training, or (None, None)."""
    if not net["trains"]:
        return None, None
    last = net["trains"][-1]
    return last["learning_rate"], last.get("learning_rate_decay")


def _final_accuracy(answer, lr, decay=None):
    """The validation accuracy a net trained with ``lr`` (and ``decay``) ends at: the stand-in
    moves a net only for the learning rates of its tables; with any other it stays where it
    started."""
    return answer["final"].get(_combo_key(lr, decay), answer["final"].get(_lr_key(lr), answer.get("untrained")))


def _kept(reply):
    best = reply.data["best_net"]
    return best if isinstance(best, int) else None


def _last_decay_only(nets, best, payload, answer) -> bool:
    """Whether the kept net is the best of the nets trained with the grid's last decay while the
    best net is another decay's: the search compared only each combination's last decay's net."""
    last = payload["grid"][3][-1]
    if answer.get("best_decay") == last or _trained_with(nets[best])[1] != last:
        return False
    finals = [_final_accuracy(answer, *_trained_with(n)) for n in nets if _trained_with(n)[1] == last]
    return _final_accuracy(answer, *_trained_with(nets[best])) >= max(f for f in finals if f is not None) - 1e-12


def _best_of_own(nets, best, answer) -> Verdict:
    """A search over a grid of its own is judged on the nets it trained: the kept net must end
    at least as high on validation as every one of them."""
    finals = [(_final_accuracy(answer, *_trained_with(n)), n) for n in nets if n["trains"]]
    if not nets[best]["trains"]:
        return failed("the search kept a net it never trained: keep a net after its train()", "values")
    if len(finals) < 2:
        return failed("find_best_net trained a single net over a grid of its own: there is no search to keep the "
                      "best of; train one net per combination of get_param_set_fn()", "values")
    kept = _final_accuracy(answer, *_trained_with(nets[best]))
    top, top_net = max(((f, n) for f, n in finals if f is not None), key=lambda fn: fn[0], default=(None, None))
    if kept is None or top is None or kept >= top - 1e-12:
        return passed()
    return failed(f"the search kept the net trained with learning_rate={_trained_with(nets[best])[0]}, which reaches "
                  f"{kept:.2f} on validation, while the one it trained with learning_rate="
                  f"{_trained_with(top_net)[0]} reaches {top:.2f}: keep the net with the highest validation "
                  "accuracy", "values")


def judge_search_best(case, payload, reply, answer, device_type) -> Verdict:
    """The net kept is the one that is best on validation after training."""
    verdict = _search_outcome(reply, payload, device_type)
    if verdict:
        return verdict
    nets, best = reply.data["nets"], _kept(reply)
    if best is None:
        got = reply.data["best_net"]
        return failed(f"best_net is {'None' if got is None else got}, not one of the TwoLayerNets the search "
                      "trained: keep the net itself (best_net = net) whenever its validation accuracy beats the "
                      "best so far", "values")
    if not reply.data["asked"] and not reply.data.get("direct"):  # a grid of its own: the best of its nets
        return _best_of_own(nets, best, answer)
    if nets[best]["state"] == answer["best_state"]:
        return passed()
    lr, decay = _trained_with(nets[best])
    peak = answer["peaks"].get(_combo_key(lr, decay), answer["peaks"].get(_lr_key(lr)))
    final = _final_accuracy(answer, lr, decay)
    if _last_decay_only(nets, best, payload, answer):
        return failed(f"the search kept the net trained with learning_rate={lr}, learning_rate_decay={decay}, which "
                      f"reaches {final:.2f} on validation, while the one trained with learning_rate={answer['best_lr']}, "
                      f"learning_rate_decay={answer['best_decay']} reaches {answer['best_acc']:.2f}; the kept net is the "
                      f"best of those trained with the last decay ({decay})", "values",
                      "Likely cause: the evaluation and the best-net bookkeeping sit after the loop over "
                      "learning_rate_decays (outside it), so only the last decay's net of each combination is ever "
                      "compared: measure and compare every net inside the innermost loop, right after its train().")
    reported = reply.data["outcome"]["value"]["items"][2]
    got = reported.get("value") if reported.get("kind") == "number" else None
    if peak is not None and got is not None and peak > final + 1e-6 and (
            abs(got - peak) < 1e-6 or abs(got - 100 * peak) < 1e-4):
        return failed(f"the search kept the net trained with learning_rate={lr}, whose validation accuracy "
                      f"peaked at {peak:.2f} during training but is {final:.2f} after it; "
                      f"the net trained with learning_rate={answer['best_lr']} ends at {answer['best_acc']:.2f}",
                      "values", "Likely cause: nets are ranked by the best point of their history "
                      "(max(stat['val_acc_history'])) instead of the trained net: compare each trained net's "
                      "validation accuracy (its predict on X_val, or the history's last entry).")
    if best == len(nets) - 1 and got is not None and abs(got - final) > 1e-6 and abs(got - 100 * final) > 1e-4:
        return failed(f"the search kept the last net it trained (learning_rate={lr}, learning_rate_decay={decay}), "
                      f"which reaches {final:.2f} on validation, while the one trained with "
                      f"learning_rate={answer['best_lr']} reaches {answer['best_acc']:.2f}", "values",
                      f"Likely cause: best_val_acc is not updated when a net is kept (it returns {got!r}), so every "
                      "net beats it and the last one trained is kept: update best_net, best_stat and best_val_acc "
                      "together.")
    return failed(f"the search kept the net trained with learning_rate={lr}, which reaches "
                  f"{final if final is not None else float('nan'):.2f} on validation, while the one trained with "
                  f"learning_rate={answer['best_lr']} reaches {answer['best_acc']:.2f}: keep the net with the highest "
                  "validation accuracy", "values")


def _stat_problem(reply, best) -> Optional[str]:
    """What is wrong with the returned best_stat, or None."""
    if reply.data.get("stat_none"):
        return ("best_stat is None: keep the dict that the kept net's train() returned (best_stat = stat) whenever "
                "you keep a net")
    members = reply.data.get("stat_members")
    if isinstance(members, dict) and isinstance(members.get("owned"), int) and members["owned"] > 1:
        return (f"best_stat holds {members['members']} runs' stats ({members['owned']} of them what train() "
                "returned): it must be the one dict that the kept net's train() returned")
    if best is None or best not in reply.data["stat_from"]:
        return "best_stat must be the dict that the kept net's train() returned"
    return None


def judge_search_returns(case, payload, reply, answer, device_type) -> Verdict:
    """best_stat and best_val_acc belong to the net that was kept; every wrong return is named."""
    verdict = _search_outcome(reply, payload, device_type)
    if verdict:
        return verdict
    nets, best = reply.data["nets"], _kept(reply)
    problems = [p for p in (_extra_returns(reply),) if p]
    if best is None:
        problems.append("best_net is not one of the nets the search trained, so its stat and accuracy cannot be "
                        "either")
        truth = None
    elif not nets[best]["trains"]:
        return failed("\n".join(problems + ["best_net was never trained"]), "values")
    else:
        truth = _final_accuracy(answer, *_trained_with(nets[best]))
    reported = reply.data["outcome"]["value"]["items"][2]
    if truth is not None:
        problem = accuracy_problem([("best_val_acc", reported, truth)], "the kept net's validation")
        if problem:
            problems.append(problem)
    elif reported.get("kind") != "number" or reported.get("type") == "bool":
        problems.append(accuracy_problem([("best_val_acc", reported, answer["best_acc"])], "the best net's validation"))
    stat = _stat_problem(reply, best)
    if stat and not (best is None and stat.startswith("best_stat must be")):
        problems.append(stat)
    if problems:
        return failed("\n".join(problems), "values")
    return passed()


# ------------------------------------------------------------------ the given class (no points)

def _wired(step, what, own_params=True):
    if step.get("error"):
        return f"{what} {raised(step['error'])}"
    if len(step["calls"]) != 1 or (own_params and not all(step.get("own_params", [True]))):
        return f"{what} does not hand its work to the module's function with the net's own params"
    return None


def judge_net_class(case, payload, reply, answer, device_type) -> Verdict:
    """TwoLayerNet is the template's given code: what is wrong with it is a note, not lost points."""
    verdict = outcome_failure(reply)
    if not verdict and reply.data.get("init", {}).get("error"):
        verdict = error_verdict(reply.data["init"]["error"], "TwoLayerNet(...)")
    notes = [verdict.message] if verdict else []
    if not verdict:
        if device_type == "cpu":
            problems = compare(reply.data["params"], answer["params"], "net.params", dtype=F64, device_type=device_type)
            if problems:
                notes.append(problems[0].message + " (TwoLayerNet seeds torch with 0, then draws W1 = std * "
                             "randn(D, H), b1 = zeros(H), W2 = std * randn(H, C), b2 = zeros(C))")
        for step, what in (("loss", "net.loss"), ("train", "net.train"), ("predict", "net.predict")):
            problem = _wired(reply.data[step], what)
            if problem:
                notes.append(problem)
        if not reply.data["train"].get("error") and not all(all(f) for f in reply.data["train"]["functions"]):
            notes.append("net.train does not pass nn_forward_backward and nn_predict to nn_train")
        notes += round_trip_notes(reply.data["round_trip"], "TwoLayerNet", "params")
    if not notes:
        return passed()
    return passed(warnings=["note (no points: TwoLayerNet is the template's given code, keep it as handed out): "
                            + "; ".join(notes)])


FORWARD = forward_case("toy data (float64)", 2 - DEVICE_POINTS, PUBLIC, net_params(), F64)
BACKWARD = backward_case("toy data, reg=0.05: loss about log(3) and gradients", 1.5, PUBLIC, net_params(), F64, 0.05)
PREDICT = Case("nn_predict", "argmax over classes of the net's scores", 2 - DEVICE_POINTS, PUBLIC, "nn_predict",
               judge_nn_predict, "nn_predict", {"seed": 81}, standins=("nn_forward_pass", "nn_forward_backward"))

# The device rule's cases (0.5 each) were part of the toy forward case (2), the float64
# backward case (1.5) and nn_predict's case (2).
CASES: List[Case] = [
    FORWARD,
    forward_case("float32, N=9 D=6 H=8 C=4", 1, PUBLIC, net_params(51, 9, 6, 8, 4, F32), F32),
    device_case("nn_forward_pass"),
    BACKWARD,
    backward_case("float64, N=10 D=5 H=7 C=3, reg=0.2", 1.5 - DEVICE_POINTS, PUBLIC, net_params(61, 10, 5, 7, 3), F64,
                  0.2),
    backward_case("float32, N=12 D=8 H=6 C=5, reg=0.1", 1, PUBLIC, net_params(62, 12, 8, 6, 5, F32), F32, 0.1),
    backward_case("float64, scores near 3000 (stability)", 1, PUBLIC,
                  net_params(63, 8, 6, 5, 4, F64, 0.5, 1.0, 3000.0), F64, 0.01),
    scores_case("without y (y=None): returns the scores", 1, PUBLIC, net_params(64, 11, 6, 5, 4), F64),
    *_numeric_cases(0.5),
    device_case("nn_forward_backward"),
    Case("nn_train", "SGD on every param, lr decay per epoch (it = 0 included), histories", 6, PUBLIC, "nn_train",
         judge_nn_train, "nn_train", {"seed": 71}, standins=("sample_batch",)),
    PREDICT,
    device_case("nn_predict"),
    Case("nn_get_search_params", "at least 2 values each, fewer than 256 combinations", 1, PUBLIC, "search_params",
         search_judge(("learning_rates", "hidden_sizes", "regularization_strengths", "learning_rate_decays"), 256,
                      strictly_fewer=True), "search", {"module": MODULE, "function": "nn_get_search_params"}),
    *[Case("find_best_net", name, points, PUBLIC, "find_best_net", judge, "find_best_net", {"seed": 91},
           standins=("TwoLayerNet", "nn_train", "nn_predict", "nn_forward_pass", "nn_forward_backward",
                     "nn_get_search_params"))
      for name, points, judge in (
          ("trains one net per combination of the grid, with its values", 2, judge_search_grid),
          ("keeps the net that is best on validation after training", 2, judge_search_best),
          ("returns the kept net's stat and validation accuracy", 1, judge_search_returns))],
    Case("TwoLayerNet", "given code: seeded init, hands its work to your functions", 0, PUBLIC,
         "two_layer_net_class", judge_net_class, "net_class", {"seed": 95},
         standins=("nn_forward_backward", "nn_train", "nn_predict")),
]
