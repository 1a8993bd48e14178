"""The similarity check on a synthetic class built here: the template (stubs made from the
kit's solution) with function bodies written for these tests in several styles.

Authors, and the variant of each function they wrote (a letter; a function not listed is left
as the template's stub). No variant is used by two authors, except where one copied:

- P1, P2: P2 copied P1 (names changed, functions reordered, comments rewritten);
- Q1, Q2: Q2 copied Q1 the same way (Q2 handed in as a zip);
- F1, F2: independent, except that F2 copied F1's ``nn_forward_backward``;
- I1, I2, I3: independent;
- R: copied the kit's solution, which is given as ``--reference``;
- T1, T2: the untouched template; U: a linear_classifier.py that does not parse;
- Z: a broken zip; M: a folder without two_layer_net.py.
"""
import ast
import csv
import html.parser
import io
import itertools
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from grader.instructor import similarity
from grader.instructor.similarity import measure as similarity_measure
from grader.instructor.similarity import read as similarity_read
from grader.instructor.similarity import source as similarity_source
from grader.instructor.entries import discover
from grader.instructor.similarity import (SimilarityError, compared_functions, function_bodies,
                                        reference_entries, run_similarity, scope_of)
from grader.instructor.stubs import make_stub

REPO = Path(__file__).resolve().parents[1]
LC, TLN = "linear_classifier.py", "two_layer_net.py"
FILE_OF = similarity.FILE_OF

pytest.importorskip("copydetect")


def body(text):
    return textwrap.dedent(text).strip("\n") + "\n"


# --------------------------------------------------------------------------------------------
# Function bodies (without docstrings), several independent styles per function.

V = {
    "svm_loss_naive": {
        "A": body("""
            dW = torch.zeros_like(W)  # (D, C)
            num_classes = W.shape[1]
            num_train = X.shape[0]
            loss = 0.0
            for i in range(num_train):
                scores = W.t().mv(X[i])  # (C,)
                correct_class_score = scores[y[i]]
                for j in range(num_classes):
                    if j == y[i]:
                        continue
                    margin = scores[j] - correct_class_score + 1  # note delta = 1
                    if margin > 0:
                        loss += margin
                        dW[:, j] = dW[:, j] + X[i]
                        dW[:, y[i]] = dW[:, y[i]] - X[i]

            # Average over the batch, then add the regularization term.
            loss /= num_train
            loss += reg * torch.sum(W * W)

            dW = dW / num_train + reg * 2 * W
            return loss, dW
        """),
        "B": body("""
            N, C = X.shape[0], W.shape[1]
            dW = torch.zeros_like(W)
            loss = torch.zeros((), dtype=W.dtype, device=W.device)
            for n in range(N):
                s = X[n] @ W
                positives = 0
                for c in range(C):
                    if c != y[n]:
                        gap = s[c] - s[y[n]] + 1.0
                        if gap > 0:
                            loss = loss + gap
                            dW[:, c] += X[n]
                            positives += 1
                dW[:, y[n]] -= positives * X[n]
            loss = loss / N + reg * (W ** 2).sum()
            dW = dW / N
            dW += 2.0 * reg * W
            return loss, dW
        """),
        "C": body("""
            dW = torch.zeros_like(W)  # (D, C)
            num_classes = W.shape[1]
            num_train = X.shape[0]
            loss = 0.0
            for i in range(num_train):
                scores = W.t().mv(X[i])  # (C,)
                correct_class_score = scores[y[i]]
                for j in range(num_classes):
                    if j == y[i]:
                        continue
                    margin = scores[j] - correct_class_score + 1  # note delta = 1
                    if margin > 0:
                        loss += margin
                        dW[:, j].add_(X[i])
                        dW[:, y[i]].sub_(X[i])

            # Average over the batch, then add the regularization term.
            loss /= num_train
            loss += reg * torch.sum(W * W)

            dW.div_(num_train)
            dW.add_(W, alpha=2 * reg)
            return loss, dW
        """),
    },
    "svm_loss_vectorized": {
        "A": body("""
            num = X.shape[0]
            s = X.mm(W)
            true = s.gather(1, y.view(-1, 1))
            m = torch.clamp(s - true + 1, min=0)
            m.scatter_(1, y.view(-1, 1), 0)
            # </pre><script>alert("copied")</script>
            loss = m.sum() / num + reg * (W * W).sum()
            mask = (m > 0).to(X.dtype)
            mask.scatter_(1, y.view(-1, 1), -mask.sum(dim=1, keepdim=True))
            dW = X.t().mm(mask) / num + 2 * reg * W
            return loss, dW
        """),
        "B": body("""
            n_samples = len(y)
            all_scores = X @ W
            idx = torch.arange(n_samples, device=X.device)
            target = all_scores[idx, y]
            hinge = torch.maximum(all_scores - target[:, None] + 1, torch.zeros_like(all_scores))
            onehot = torch.zeros_like(all_scores)
            onehot[idx, y] = 1
            hinge = hinge * (1 - onehot)
            loss = hinge.sum() / n_samples
            loss = loss + reg * torch.sum(W ** 2)
            active = hinge.gt(0).type_as(X)
            counts = active.sum(1)
            active = active - onehot * counts[:, None]
            dW = X.T @ active
            dW = dW / n_samples + 2 * reg * W
            return loss, dW
        """),
        "C": body("""
            scores_matrix = torch.matmul(X, W)
            everyone = torch.arange(X.shape[0], device=X.device)
            correct = torch.gather(scores_matrix, 1, y.unsqueeze(-1))
            diff = scores_matrix - correct + 1.0
            diff[everyone, y] = 0.0
            pos = diff > 0
            loss = torch.where(pos, diff, torch.zeros_like(diff)).sum() / X.shape[0] + reg * torch.sum(W * W)
            g = pos.to(diff.dtype)
            g[everyone, y] -= g.sum(dim=1)
            dW = torch.matmul(X.transpose(0, 1), g) / X.shape[0] + 2 * reg * W
            return loss, dW
        """),
        "D": body("""
            count = X.size(0)
            rows = torch.arange(count, device=X.device)
            S = torch.einsum("nd,dc->nc", X, W)
            margin = (S - S[rows, y].reshape(count, 1) + 1).clamp_min(0)
            margin[rows, y] = 0
            loss = margin.sum().div(count) + reg * W.pow(2).sum()
            G = torch.sign(margin)
            G[rows, y] = -G.sum(dim=1)
            dW = torch.einsum("nd,nc->dc", X, G).div(count) + 2 * reg * W
            return loss, dW
        """),
    },
    "softmax_loss_naive": {
        "A": body("""
            loss = torch.zeros((), device=W.device, dtype=W.dtype)
            dW = torch.zeros_like(W)  # (D, C)
            N = X.shape[0]
            for i, row in enumerate(X):
                f = row @ W
                f = f - torch.max(f)
                p = torch.exp(f) / torch.sum(torch.exp(f))
                loss += torch.log(torch.sum(torch.exp(f))) - f[y[i]]
                for c, pc in enumerate(p):
                    indicator = 1.0 if c == int(y[i]) else 0.0
                    dW[:, c] += (pc - indicator) * row
            loss = loss / N + reg * (W * W).sum()
            dW = dW / N + W * (2 * reg)
            return loss, dW
        """),
        "B": body("""
            loss = torch.zeros((), device=W.device, dtype=W.dtype)
            dW = torch.zeros_like(W)  # (D, C)
            num_samples, num_classes = X.shape[0], W.shape[1]
            for k in range(num_samples):
                logits = X[k].matmul(W)
                logits -= logits.max()
                denom = logits.exp().sum()
                loss = loss + denom.log() - logits[y[k]]
                for c in range(num_classes):
                    prob = logits[c].exp() / denom
                    if c == y[k]:
                        dW[:, c] -= (1 - prob) * X[k]
                    else:
                        dW[:, c] += prob * X[k]
            loss /= num_samples
            loss += reg * (W ** 2).sum()
            dW /= num_samples
            dW += 2 * reg * W
            return loss, dW
        """),
        "C": body("""
            loss = torch.zeros((), device=W.device, dtype=W.dtype)
            dW = torch.zeros_like(W)  # (D, C)
            for x, label in zip(X, y):
                z = W.T @ x
                z = z - z.max()
                e = torch.exp(z)
                total = e.sum()
                loss = loss - (z[label] - torch.log(total))
                probs = e / total
                probs[label] -= 1
                for col in range(len(probs)):
                    dW[:, col] += probs[col] * x
            n = len(y)
            loss = loss / n
            loss = loss + reg * W.pow(2).sum()
            dW = dW / n + 2 * reg * W
            return loss, dW
        """),
    },
    "softmax_loss_vectorized": {
        "A": body("""
            num = X.shape[0]
            logits = X.mm(W)
            lp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
            picked = lp.gather(1, y.view(-1, 1))
            loss = -picked.mean() + reg * (W * W).sum()
            grad_logits = lp.exp()
            grad_logits.scatter_add_(1, y.view(-1, 1), -torch.ones_like(picked))
            dW = X.t().mm(grad_logits) / num + 2 * reg * W
            return loss, dW
        """),
        "B": body("""
            n = len(y)
            s = X @ W
            s = s - s.amax(1, keepdim=True)
            e = torch.exp(s)
            probs = e / e.sum(1, keepdim=True)
            idx = torch.arange(n, device=X.device)
            loss = (torch.log(e.sum(1)) - s[idx, y]).sum() / n
            loss = loss + reg * torch.sum(W ** 2)
            target = torch.zeros_like(probs)
            target[idx, y] = 1.0
            dW = X.T @ (probs - target) / n
            dW = dW + 2 * reg * W
            return loss, dW
        """),
        "C": body("""
            shifted = torch.matmul(X, W)
            shifted -= shifted.max(dim=-1, keepdim=True).values
            log_norm = shifted.exp().sum(dim=-1).log()
            onehot = torch.nn.functional.one_hot(y, W.shape[1]).to(W.dtype)
            loss = (log_norm - (shifted * onehot).sum(-1)).mean() + reg * torch.sum(W * W)
            soft = (shifted - log_norm.unsqueeze(-1)).exp()
            dW = torch.matmul(X.transpose(0, 1), soft - onehot) / X.shape[0] + 2 * reg * W
            return loss, dW
        """),
        "D": body("""
            count = X.size(0)
            rows = torch.arange(count, device=X.device)
            Z = torch.einsum("nd,dc->nc", X, W)
            Z = Z - Z.max(1).values.unsqueeze(1)
            LSE = Z.exp().sum(1).log()
            loss = LSE.sub(Z[rows, y]).sum().div(count) + reg * W.pow(2).sum()
            P = Z.sub(LSE.unsqueeze(1)).exp()
            P[rows, y] -= 1
            dW = torch.einsum("nd,nc->dc", X, P).div(count) + 2 * reg * W
            return loss, dW
        """),
    },
    "sample_batch": {
        "A": body("""
            chosen = torch.randint(0, num_train, size=(batch_size,), device=X.device)
            X_batch, y_batch = X[chosen], y[chosen]
            return X_batch, y_batch
        """),
        "B": body("""
            picks = torch.randint(high=num_train, size=[batch_size], device=y.device)
            X_batch = X.index_select(0, picks)
            y_batch = y.index_select(0, picks)
            return X_batch, y_batch
        """),
        "C": body("""
            sel = torch.randint(0, num_train, (batch_size,), device=X.device, dtype=torch.long)
            y_batch = torch.take(y, sel)
            X_batch = torch.stack([X[k] for k in sel.tolist()])
            return X_batch, y_batch
        """),
    },
    "train_linear_classifier": {
        letter: body(f"""
            num_train, dim = X.shape
            if W is None:
                num_classes = int(torch.max(y).item()) + 1
                W = 0.000001 * torch.randn(dim, num_classes, device=X.device, dtype=X.dtype)

            loss_history = []
            for it in range(num_iters):
                X_batch, y_batch = sample_batch(X, y, num_train, batch_size)
                loss, grad = loss_func(W, X_batch, y_batch, reg)
                loss_history.append(float(loss))
{textwrap.indent(step, ' ' * 16)}
                if verbose and it % 100 == 0:
                    print(f"iteration {{it}} / {{num_iters}}: loss {{float(loss):f}}")
            return W, loss_history
        """) for letter, step in {
            "A": "W = W - learning_rate * grad",
            "B": "W.add_(grad, alpha=-learning_rate)",
            "C": "step = grad * learning_rate\nW -= step",
        }.items()
    },
    "predict_linear_classifier": {
        "A": body("""
            y_pred = torch.argmax(X @ W, dim=1)
            return y_pred
        """),
        "B": body("""
            scores = torch.matmul(X, W)
            _, y_pred = scores.max(1)
            return y_pred
        """),
        "C": body("""
            y_pred = (X.mm(W)).max(dim=-1).indices
            return y_pred
        """),
    },
    "svm_get_search_params": {
        "A": body("""
            learning_rates = [5e-4, 1e-3, 5e-3]
            regularization_strengths = [1e-4, 1e-3]
            return learning_rates, regularization_strengths
        """),
        "B": body("""
            learning_rates = [0.01, 0.02, 0.04, 0.08]
            regularization_strengths = [0.002, 0.004, 0.006, 0.008, 0.01]
            return learning_rates, regularization_strengths
        """),
    },
    "softmax_get_search_params": {
        "A": body("""
            learning_rates = [1e-3, 1e-2, 1e-1]
            regularization_strengths = [1e-5, 1e-4]
            return learning_rates, regularization_strengths
        """),
        "B": body("""
            learning_rates = [0.05, 0.15, 0.3]
            regularization_strengths = [0.0005, 0.005, 0.05]
            return learning_rates, regularization_strengths
        """),
    },
    "test_one_param_set": {
        "A": body("""
            Xtr, ytr = data_dict["X_train"], data_dict["y_train"]
            Xv, yv = data_dict["X_val"], data_dict["y_val"]
            cls.train(Xtr, ytr, learning_rate=lr, reg=reg, num_iters=num_iters)
            train_acc = 100.0 * (cls.predict(Xtr) == ytr).double().mean().item()
            val_acc = 100.0 * (cls.predict(Xv) == yv).double().mean().item()
            return cls, train_acc, val_acc
        """),
        "B": body("""
            cls.train(data_dict['X_train'], data_dict['y_train'], lr, reg, num_iters)

            def accuracy(split):
                guess = cls.predict(data_dict['X_' + split])
                return float((guess == data_dict['y_' + split]).sum().item()) / len(guess)

            train_acc = accuracy('train')
            val_acc = accuracy('val')
            return cls, train_acc, val_acc
        """),
        "C": body("""
            cls.train(*(data_dict[k] for k in ("X_train", "y_train")), reg=reg, learning_rate=lr,
                      num_iters=num_iters)
            accs = []
            for split in ("train", "val"):
                correct = cls.predict(data_dict[f"X_{split}"]).eq(data_dict[f"y_{split}"])
                accs.append(correct.float().mean().item())
            train_acc, val_acc = accs
            return cls, train_acc, val_acc
        """),
    },
    "nn_forward_pass": {
        "A": body("""
            W1, b1 = params["W1"], params["b1"]
            W2, b2 = params["W2"], params["b2"]
            pre = X @ W1 + b1
            hidden = pre * (pre > 0)
            scores = hidden @ W2 + b2
            return scores, hidden
        """),
        "B": body("""
            W1, b1 = params["W1"], params["b1"]
            W2, b2 = params["W2"], params["b2"]
            z1 = torch.matmul(X, W1) + b1
            hidden = torch.maximum(z1, torch.zeros_like(z1))
            scores = torch.matmul(hidden, W2) + b2
            return scores, hidden
        """),
        "C": body("""
            first = torch.addmm(params["b1"], X, params["W1"])
            hidden = torch.where(first > 0, first, torch.zeros((), dtype=X.dtype, device=X.device))
            scores = torch.addmm(params["b2"], hidden, params["W2"])
            return scores, hidden
        """),
    },
    "nn_forward_backward": {
        "A": body("""
            W1, b1 = params["W1"], params["b1"]
            W2, b2 = params["W2"], params["b2"]
            N, D = X.shape

            scores, h1 = nn_forward_pass(params, X)
            if y is None:
                return scores

            shifted = scores - scores.max(dim=1, keepdim=True)[0]
            expo = torch.exp(shifted)
            denominators = expo.sum(dim=1, keepdim=True)
            probs = expo / denominators
            log_probs = shifted - torch.log(denominators)
            everyone = torch.arange(N, device=X.device)
            data_loss = -log_probs[everyone, y].sum() / N
            reg_loss = reg * torch.sum(W1 * W1) + reg * torch.sum(W2 * W2)
            loss = data_loss + reg_loss

            grads = {}
            dscores = probs.clone()
            dscores[everyone, y] -= 1
            dscores = dscores / N
            grads["W2"] = torch.mm(h1.t(), dscores) + 2 * reg * W2
            grads["b2"] = torch.sum(dscores, dim=0)
            dh = torch.mm(dscores, W2.t())
            dh[h1 <= 0] = 0
            grads["W1"] = torch.mm(X.t(), dh) + 2 * reg * W1
            grads["b1"] = torch.sum(dh, dim=0)
            return loss, grads
        """),
        "B": body("""
            W1, b1 = params["W1"], params["b1"]
            W2, b2 = params["W2"], params["b2"]
            N, D = X.shape

            scores, h1 = nn_forward_pass(params, X)
            if y is None:
                return scores

            onehot = torch.zeros_like(scores)
            onehot[torch.arange(N, device=scores.device), y] = 1.0
            top = scores.max(dim=1, keepdim=True).values
            lse = top + (scores - top).exp().sum(dim=1, keepdim=True).log()
            loss = (lse.squeeze(1) - (scores * onehot).sum(dim=1)).mean()
            loss = loss + reg * ((W1 ** 2).sum() + (W2 ** 2).sum())

            grads = {}
            g_scores = ((scores - lse).exp() - onehot) / N
            grads["b2"] = g_scores.sum(0)
            grads["W2"] = h1.T @ g_scores + 2 * reg * W2
            g_hidden = g_scores @ W2.T
            g_hidden = g_hidden * (h1 > 0).to(g_hidden.dtype)
            grads["b1"] = g_hidden.sum(0)
            grads["W1"] = X.T @ g_hidden + 2 * reg * W1
            return loss, grads
        """),
        "C": body("""
            W1, b1 = params["W1"], params["b1"]
            W2, b2 = params["W2"], params["b2"]
            N, D = X.shape

            scores, h1 = nn_forward_pass(params, X)
            if y is None:
                return scores

            logits = scores - torch.max(scores, 1, True).values
            norm = torch.logsumexp(logits, 1)
            loss = torch.mean(norm - logits.gather(1, y[:, None]).squeeze(1))
            loss += reg * torch.sum(W1 * W1)
            loss += reg * torch.sum(W2 * W2)

            grads = {}
            delta = torch.exp(logits - norm[:, None])
            delta.scatter_add_(1, y[:, None], torch.full((N, 1), -1.0, dtype=delta.dtype, device=delta.device))
            delta /= N
            for name, value in (("W2", torch.matmul(h1.transpose(0, 1), delta) + 2 * reg * W2),
                                ("b2", delta.sum(dim=0))):
                grads[name] = value
            back = torch.matmul(delta, W2.transpose(0, 1))
            back = torch.where(h1 > 0, back, torch.zeros_like(back))
            grads["W1"] = torch.matmul(X.transpose(0, 1), back) + 2 * reg * W1
            grads["b1"] = back.sum(dim=0)
            return loss, grads
        """),
    },
    "nn_train": {
        letter: body(f"""
            num_train = X.shape[0]
            iterations_per_epoch = max(num_train // batch_size, 1)

            loss_history = []
            train_acc_history = []
            val_acc_history = []

            for it in range(num_iters):
                X_batch, y_batch = sample_batch(X, y, num_train, batch_size)
                loss, grads = loss_func(params, X_batch, y=y_batch, reg=reg)
                loss_history.append(float(loss))

{textwrap.indent(step, ' ' * 16)}

                if verbose and it % 100 == 0:
                    print(f"iteration {{it}} / {{num_iters}}: loss {{float(loss):f}}")

                if it % iterations_per_epoch == 0:
                    y_train_pred = pred_func(params, loss_func, X_batch)
                    train_acc = (y_train_pred == y_batch).double().mean().item()
                    y_val_pred = pred_func(params, loss_func, X_val)
                    val_acc = (y_val_pred == y_val).double().mean().item()
                    train_acc_history.append(train_acc)
                    val_acc_history.append(val_acc)
                    learning_rate *= learning_rate_decay

            return {{
                "loss_history": loss_history,
                "train_acc_history": train_acc_history,
                "val_acc_history": val_acc_history,
            }}
        """) for letter, step in {
            "A": "for key, value in params.items():\n    value -= learning_rate * grads[key]",
            "B": "\n".join(f'params["{p}"] -= learning_rate * grads["{p}"]' for p in ("W1", "b1", "W2", "b2")),
            "C": "for k in list(params):\n    params[k] = params[k] - learning_rate * grads[k]",
        }.items()
    },
    "nn_predict": {
        "A": body("""
            scores = loss_func(params, X)
            y_pred = torch.argmax(scores, dim=1)
            return y_pred
        """),
        "B": body("""
            y_pred = loss_func(params, X, y=None).max(dim=1).indices
            return y_pred
        """),
        "C": body("""
            _, y_pred = torch.max(loss_func(params, X), 1)
            return y_pred
        """),
    },
    "nn_get_search_params": {
        "A": body("""
            learning_rates = [0.1, 0.3, 1.0]
            hidden_sizes = [64, 200]
            regularization_strengths = [1e-6, 1e-4]
            learning_rate_decays = [0.9, 0.99]
            return learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays
        """),
        "B": body("""
            learning_rates = [0.7, 1.4]
            hidden_sizes = [300, 400, 500]
            regularization_strengths = [2e-5, 8e-5]
            learning_rate_decays = [0.85, 0.97]
            return learning_rates, hidden_sizes, regularization_strengths, learning_rate_decays
        """),
    },
    "find_best_net": {
        "A": body("""
            best_net = None
            best_stat = None
            best_val_acc = 0.0
            lrs, hs, regs, decays = get_param_set_fn()
            for lr in lrs:
                for h in hs:
                    for r in regs:
                        for d in decays:
                            model = TwoLayerNet(data_dict["X_train"].shape[1], h, 10,
                                                dtype=data_dict["X_train"].dtype, device=data_dict["X_train"].device)
                            stats = model.train(data_dict["X_train"], data_dict["y_train"], data_dict["X_val"],
                                                data_dict["y_val"], num_iters=500, batch_size=200, learning_rate=lr,
                                                learning_rate_decay=d, reg=r)
                            acc = (model.predict(data_dict["X_val"]) == data_dict["y_val"]).double().mean().item()
                            if acc > best_val_acc:
                                best_net, best_stat, best_val_acc = model, stats, acc
            return best_net, best_stat, best_val_acc
        """),
        "B": body("""
            best_net = None
            best_stat = None
            best_val_acc = 0.0
            Xtr = data_dict["X_train"]
            ytr = data_dict["y_train"]
            Xva = data_dict["X_val"]
            yva = data_dict["y_val"]
            opts = {"dtype": Xtr.dtype, "device": Xtr.device}
            settings = list(itertools.product(*get_param_set_fn()))
            for setting in settings:
                lr, hidden_size, reg, decay = setting
                candidate = TwoLayerNet(Xtr.shape[1], hidden_size, 10, **opts)
                result = candidate.train(Xtr, ytr, Xva, yva, num_iters=800, batch_size=256, reg=reg,
                                         learning_rate=lr, learning_rate_decay=decay)
                score = result["val_acc_history"][-1]
                if best_net is None or score > best_val_acc:
                    best_net = candidate
                    best_stat = result
                    best_val_acc = score
            return best_net, best_stat, best_val_acc
        """),
        "C": body("""
            best_net = None
            best_stat = None
            best_val_acc = 0.0
            learning_rates, hidden_sizes, regs, decays = get_param_set_fn()
            trials = [(a, b, c, d) for a in learning_rates for b in hidden_sizes for c in regs for d in decays]
            train_X, train_y, val_X, val_y = (data_dict[k] for k in ("X_train", "y_train", "X_val", "y_val"))

            def evaluate(net):
                return float(net.predict(val_X).eq(val_y).float().mean())

            while trials:
                lr, hid, rg, dc = trials.pop()
                net = TwoLayerNet(train_X.size(1), hid, 10, train_X.dtype, train_X.device)
                stat = net.train(train_X, train_y, val_X, val_y, lr, dc, rg, 600, 300)
                acc = evaluate(net)
                if acc >= best_val_acc:
                    best_net, best_stat, best_val_acc = net, stat, acc
            return best_net, best_stat, best_val_acc
        """),
    },
}

# The variant of each function each author wrote; the F2 entry "B" is the one copied from F1.
PLANS = {
    "P": {"svm_loss_naive": "A", "svm_loss_vectorized": "A", "softmax_loss_naive": "A",
          "softmax_loss_vectorized": "A", "sample_batch": "A", "train_linear_classifier": "A",
          "predict_linear_classifier": "A", "svm_get_search_params": "A", "softmax_get_search_params": "A",
          "test_one_param_set": "A", "nn_forward_pass": "A"},
    "Q": {"nn_forward_pass": "B", "nn_forward_backward": "A", "nn_train": "A", "nn_predict": "A",
          "nn_get_search_params": "A", "find_best_net": "A", "svm_loss_vectorized": "B"},
    "F1": {"nn_forward_backward": "B", "softmax_loss_vectorized": "B", "svm_loss_naive": "B",
           "find_best_net": "B", "nn_train": "B", "sample_batch": "B"},
    "F2": {"nn_forward_backward": "B", "softmax_loss_naive": "B", "svm_loss_vectorized": "C",
           "test_one_param_set": "B", "nn_forward_pass": "C", "predict_linear_classifier": "B"},
    "I1": {"softmax_loss_vectorized": "C", "svm_loss_naive": "C", "nn_forward_backward": "C",
           "nn_predict": "B", "train_linear_classifier": "B", "svm_get_search_params": "B"},
    "I2": {"softmax_loss_naive": "C", "find_best_net": "C", "nn_train": "C", "test_one_param_set": "C",
           "train_linear_classifier": "C", "nn_get_search_params": "B", "sample_batch": "C"},
    "I3": {"svm_loss_vectorized": "D", "softmax_loss_vectorized": "D", "predict_linear_classifier": "C",
           "nn_predict": "C", "softmax_get_search_params": "B"},
}


def test_the_plan_gives_no_variant_to_two_authors():
    """The class's premise: only the copies share code."""
    users = {}
    for author, plan in PLANS.items():
        for function, letter in plan.items():
            assert letter in V[function], (author, function)
            if (function, letter) != ("nn_forward_backward", "B"):
                assert (function, letter) not in users, (author, users.get((function, letter)))
            users[(function, letter)] = author


# --------------------------------------------------------------------------------------------
# Building files


def template(name):
    return make_stub((REPO / "a2" / name).read_text(), name)


def replace_bodies(source, bodies):
    """``source`` with the bodies (after the docstring) of the named top-level functions replaced."""
    lines = source.splitlines(keepends=True)
    spans = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name in bodies:
            first = node.body[1] if len(node.body) > 1 and isinstance(node.body[0], ast.Expr) else node.body[0]
            spans.append((first.lineno, node.end_lineno, node.name))
    assert {s[2] for s in spans} == set(bodies)
    for start, end, name in sorted(spans, reverse=True):
        lines[start - 1:end] = [textwrap.indent(bodies[name], "    ")]
    return "".join(lines)


def author_files(plan, layout="kit"):
    files = {}
    for name in (LC, TLN):
        bodies = {f: V[f][letter] for f, letter in plan.items() if FILE_OF[f] == name}
        files[name] = replace_bodies(template(name), bodies)
    if layout == "course":
        files[TLN] = files[TLN].replace("from .linear_classifier import", "from linear_classifier import")
    return files


RENAMES = {"num": "count_rows", "s": "sc", "true": "truth", "m": "margin_matrix", "mask": "m2", "f": "logit",
           "p": "prob", "lp": "logp", "picked": "chosen_lp", "grad_logits": "g", "chosen": "which",
           "Xtr": "X_tr", "ytr": "y_tr", "Xv": "X_va", "yv": "y_va", "pre": "a1", "hidden": "hid",
           "shifted": "z", "expo": "ez", "denominators": "sums", "probs": "pr", "log_probs": "lpr",
           "everyone": "all_rows", "data_loss": "dl", "reg_loss": "rl", "dscores": "ds", "dh": "dhid",
           "lrs": "rates", "hs": "sizes", "regs": "strengths", "decays": "drops", "model": "mdl",
           "stats": "hist", "acc": "accuracy", "value": "tensor", "key": "pname", "onehot": "y_hot",
           "top": "mx", "lse": "logsum", "g_scores": "gs", "g_hidden": "gh", "margins": "hinge_terms",
           "coeff": "weights", "rows": "row_ids", "idx": "pick", "y_pred": "labels"}
COMMENT = re.compile(r"(?m)^(?P<code>[^#\n'\"]*\S)[ \t]+#.*$")


def disguise(source, renames=RENAMES, note="# worked this out myself"):
    """What a copier does: rename variables, rewrite comments, reorder the functions."""
    for old, new in renames.items():
        source = re.sub(rf"(?<![.\w\"']){re.escape(old)}\b(?![\"'])", new, source)
    source = COMMENT.sub(lambda m: f"{m['code']}  # {note}", source)
    source = re.sub(r"(?m)^(?P<indent>[ \t]+)return ", lambda m: f"{m['indent']}{note}\n{m[0]}", source)
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in FILE_OF]
    taken = set()
    for node in functions:
        taken.update(range(node.lineno - 1, node.end_lineno))
    rest = [line for i, line in enumerate(lines) if i not in taken]
    moved = ["\n\n" + "".join(lines[n.lineno - 1:n.end_lineno]) for n in reversed(functions)]
    result = "".join(rest) + "".join(moved)
    ast.parse(result)
    return result


def write_entry(root, files, layout="kit", as_zip=False):
    """A submission: kit layout (a2/ with __init__.py) or course layout, as a folder or a zip."""
    if as_zip:
        with zipfile.ZipFile(root.with_suffix(".zip"), "w") as zf:
            for name, text in files.items():
                zf.writestr(f"{root.name}/{'a2/' if layout == 'kit' else ''}{name}", text)
        return root.with_suffix(".zip")
    code = root / "a2" if layout == "kit" else root
    code.mkdir(parents=True)
    for name, text in files.items():
        (code / name).write_text(text)
    if layout == "kit":
        (code / "__init__.py").write_text("")
    return root


def build_class(base: Path):
    subs = base / "class"
    subs.mkdir(parents=True)
    written = {}
    for author in ("P", "Q", "F1", "I1", "I2", "I3"):
        layout = "course" if author in ("I2", "Q") else "kit"
        written[author] = author_files(PLANS[author], layout)
    write_entry(subs / "P1", written["P"])
    write_entry(subs / "P2", {n: disguise(t) for n, t in written["P"].items()}, layout="course")
    write_entry(subs / "Q1", written["Q"], layout="course")
    write_entry(subs / "Q2", {n: disguise(t, note="# rewritten") for n, t in written["Q"].items()},
                layout="course", as_zip=True)
    write_entry(subs / "F1", written["F1"])
    f2 = author_files(PLANS["F2"])
    copied = disguise(replace_bodies(template(TLN), {"nn_forward_backward": V["nn_forward_backward"]["B"]}))
    copied_body = function_bodies(copied, ["nn_forward_backward"])["nn_forward_backward"][0]
    f2[TLN] = replace_bodies(f2[TLN], {"nn_forward_backward": copied_body})
    write_entry(subs / "F2", f2)
    for author in ("I1", "I2", "I3"):
        write_entry(subs / author, written[author], layout="course" if author == "I2" else "kit")
    solution = {name: (REPO / "a2" / name).read_text() for name in (LC, TLN)}
    write_entry(subs / "R", {n: disguise(t, note="# from the lecture") for n, t in solution.items()})
    write_entry(subs / "T1", {name: template(name) for name in (LC, TLN)})
    write_entry(subs / "T2", author_files({}, "course"), layout="course", as_zip=True)
    write_entry(subs / "U", {LC: template(LC).replace("def svm_loss_naive(", "def svm_loss_naive(((", 1),
                             TLN: template(TLN)})
    (subs / "Z.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    (subs / "M" / "a2").mkdir(parents=True)
    (subs / "M" / "a2" / LC).write_text(written["P"][LC])
    reference = base / "ref<script>" / "a2"
    reference.mkdir(parents=True)
    for name in (LC, TLN):
        shutil.copyfile(REPO / "a2" / name, reference / name)
    return subs, reference.parent


COMPARED_IDS = ["F1", "F2", "I1", "I2", "I3", "P1", "P2", "Q1", "Q2", "R", "T1", "T2", "U"]
COPIES = {frozenset(("P1", "P2")), frozenset(("Q1", "Q2")), frozenset(("F1", "F2"))}


def read_csv(path):
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    pairs = {frozenset((r["a"], r["b"])): r for r in rows if r["kind"] == "pair"}
    return rows, pairs


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    base = tmp_path_factory.mktemp("similarity")
    subs, reference = build_class(base)
    out = base / "out"
    summary = run_similarity(subs, out, references=[reference])
    rows, pairs = read_csv(out / "similarity.csv")
    return {"summary": summary, "out": out, "rows": rows, "pairs": pairs, "subs": subs, "reference": reference,
            "html": (out / "similarity.html").read_text()}


# --------------------------------------------------------------------------------------------


def test_copier_pairs_rank_on_top_with_their_functions(report):
    ranked = [r for r in report["rows"] if r["kind"] == "pair"]
    top = [frozenset((r["a"], r["b"])) for r in ranked[:3]]
    assert set(top[:2]) == {frozenset(("P1", "P2")), frozenset(("Q1", "Q2"))}, ranked[:4]
    for pair, owner in ((("P1", "P2"), "P"), (("Q1", "Q2"), "Q")):
        row = report["pairs"][frozenset(pair)]
        assert float(row["score"]) >= 90, row
        assert float(row["percent_a"]) >= 90 and float(row["percent_b"]) >= 90, row
        shared = set(row["shared_functions"].split())
        assert shared <= set(PLANS[owner]), row
    p_shared = set(report["pairs"][frozenset(("P1", "P2"))]["shared_functions"].split())
    assert {"svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized",
            "test_one_param_set", "sample_batch"} <= p_shared
    q_shared = set(report["pairs"][frozenset(("Q1", "Q2"))]["shared_functions"].split())
    assert {"nn_forward_backward", "find_best_net", "svm_loss_vectorized", "nn_forward_pass"} <= q_shared


def test_partial_copy_names_exactly_the_copied_function(report):
    ranked = [r for r in report["rows"] if r["kind"] == "pair"]
    assert frozenset((ranked[2]["a"], ranked[2]["b"])) == frozenset(("F1", "F2"))
    row = report["pairs"][frozenset(("F1", "F2"))]
    assert row["shared_functions"] == "nn_forward_backward"
    # nn_forward_backward is about a third of what each of them wrote
    assert 15 <= float(row["score"]) <= 60, row
    assert int(row["tokens_a"]) >= 200 and int(row["tokens_b"]) >= 200, row


def test_independent_solutions_and_stubs_score_near_zero(report):
    others = {k: r for k, r in report["pairs"].items() if k not in COPIES}
    assert len(others) == len(report["pairs"]) - 3
    worst = max(others.values(), key=lambda r: float(r["score"]))
    assert float(worst["score"]) <= 5.0, worst
    for key, row in others.items():
        assert row["shared_functions"] == "", row
    # the independent authors did write plenty (the scores are low for the right reason)
    assert float(report["pairs"][frozenset(("P1", "P2"))]["tokens_a"]) > 500


def test_the_template_never_counts(report):
    for key, row in report["pairs"].items():
        if key & {"T1", "T2", "U"}:
            assert (row["score"], row["tokens_a"], row["tokens_b"]) == ("0.00", "0", "0"), row
    assert report["pairs"][frozenset(("T1", "T2"))]["score"] == "0.00"


def test_reference_copy_is_listed_apart(report):
    refs = [r for r in report["rows"] if r["kind"] == "reference"]
    assert len(refs) == len(COMPARED_IDS)  # one reference
    assert refs[0]["a"] == "R" and refs[0]["b"] == "ref<script>"
    assert float(refs[0]["percent_a"]) >= 90, refs[0]
    assert len(refs[0]["shared_functions"].split()) >= 10
    assert all(float(r["score"]) <= 10 for r in refs[1:]), refs[1]
    # no student copied R: R pairs low with everyone
    assert all(float(r["score"]) <= 5 for k, r in report["pairs"].items() if "R" in k)
    section = report["html"].split("<h2>Matches with reference code</h2>")[1].split("<h2>")[0]
    assert "<td>R</td><td>ref&lt;script&gt;</td>" in section


def test_broken_entries_get_a_row_saying_why(report):
    broken = {r["a"]: r["note"] for r in report["rows"] if r["kind"] == "not compared"}
    assert set(broken) == {"Z", "M"}
    assert "not a readable zip file" in broken["Z"]
    assert "no linear_classifier.py and two_layer_net.py" in broken["M"]
    section = report["html"].split("<h2>Entries that could not be compared</h2>")[1].split("<h2>")[0]
    assert "<td>Z</td>" in section and "not a readable zip file" in section
    assert "<td>M</td>" in section
    notes = report["html"].split("<h2>Notes</h2>")[1].split("<h2>")[0]
    assert "<td>U</td>" in notes and "linear_classifier.py does not parse" in notes
    assert "2 entries could not be read" in report["summary"]
    assert "common code" not in report["summary"]  # 13 submissions: nothing is in more than 10


def test_csv_has_one_row_per_pair(report):
    rows = [r for r in report["rows"] if r["kind"] == "pair"]
    keys = [frozenset((r["a"], r["b"])) for r in rows]
    assert len(keys) == len(set(keys)) == len(COMPARED_IDS) * (len(COMPARED_IDS) - 1) // 2
    assert set(keys) == {frozenset(p) for p in itertools.combinations(COMPARED_IDS, 2)}
    assert [float(r["score"]) for r in rows] == sorted((float(r["score"]) for r in rows), reverse=True)
    assert list(report["rows"][0]) == similarity.CSV_HEADER


class StrictParser(html.parser.HTMLParser):
    """Fails on tags closed out of order and on any script."""

    VOID = {"meta", "img", "br", "hr", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "script":
            self.errors.append("script")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def test_html_parses_and_escapes_student_code(report):
    parser = StrictParser()
    parser.feed(report["html"])
    parser.close()
    assert parser.errors == [] and parser.stack == []
    assert parser.tags.count("mark") > 10 and "img" in parser.tags
    assert "<script" not in report["html"]
    assert "&lt;/pre&gt;&lt;script&gt;" in report["html"]  # the copied comment, shown escaped
    image = report["html"].split("<img src='")[1].split("'")[0]
    assert (report["out"] / image).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    side = report["html"].split("<h2>Side by side</h2>")[1]
    assert side.count("<h3 id='pair-") == 3 and "<h3 id='ref-" in side
    # the highlighted passage of the partial copy is inside nn_forward_backward
    f_pair = side.split("F1 and F2")[1].split("<h3")[0] if "F1 and F2" in side else side.split("F2 and F1")[1]
    assert "<code>nn_forward_backward</code>" in f_pair and "<mark>" in f_pair


def test_clusters_of_three(tmp_path):
    subs = tmp_path / "subs"
    q = author_files(PLANS["Q"])
    write_entry(subs / "a", q)
    write_entry(subs / "b", {n: disguise(t) for n, t in q.items()})
    write_entry(subs / "c", {n: disguise(t, {"probs": "pp"}, "# mine") for n, t in q.items()})
    write_entry(subs / "d", author_files(PLANS["I1"]))
    write_entry(subs / "e", author_files(PLANS["P"]))
    write_entry(subs / "f", author_files(PLANS["F1"]))
    write_entry(subs / "g", author_files({**PLANS["I2"], "nn_get_search_params": "A"}))  # took one small bit
    summary = run_similarity(subs, tmp_path / "out")
    rows, pairs = read_csv(tmp_path / "out" / "similarity.csv")
    assert 0 < float(pairs[frozenset("ag")]["score"]) < 30  # linked, but below the clusters' threshold
    text = (tmp_path / "out" / "similarity.html").read_text()
    section = text.split("<h2>Clusters of three or more")[1].split("<h2>")[0]
    assert "<li>3 submissions: a, b, c</li>" in section
    assert section.count("<li>") == 1
    assert "1 cluster of three or more" in summary


def test_common_code_does_not_count_between_students(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    q = author_files(PLANS["Q"])
    for name in "abc":
        write_entry(subs / name, q)
    run_similarity(subs, tmp_path / "out")
    _, pairs = read_csv(tmp_path / "out" / "similarity.csv")
    assert all(float(r["score"]) == 100 for r in pairs.values())
    monkeypatch.setattr(similarity_measure, "COMMON_MIN", 2)  # in more than 2 of 3 submissions: common
    summary = run_similarity(subs, tmp_path / "out2", references=[subs / "a"])
    rows, pairs = read_csv(tmp_path / "out2" / "similarity.csv")
    assert all(float(r["score"]) == 0 for r in pairs.values())
    assert "fingerprints found in more than 2 submissions counted as common code" in summary
    section = (tmp_path / "out2" / "similarity.html").read_text().split("<h2>Common code")[1].split("<h2>")[0]
    assert "<code>nn_forward_backward</code>" in section
    # ... but still counts against a reference
    assert all(float(r["score"]) == 100 for r in rows if r["kind"] == "reference")


def test_entries_from_batch_and_layouts(report, tmp_path):
    entries = [e for e in discover(report["subs"]) if e.id in ("P1", "P2", "Q2", "T2", "Z")]
    summary = run_similarity(report["subs"], tmp_path, entries=entries)
    rows, pairs = read_csv(tmp_path / "similarity.csv")
    assert set(pairs) == {frozenset(p) for p in itertools.combinations(("P1", "P2", "Q2", "T2"), 2)}
    assert float(pairs[frozenset(("P1", "P2"))]["score"]) >= 90  # kit folder vs course folder
    assert float(pairs[frozenset(("Q2", "P2"))]["score"]) <= 5  # Q2 is a zip; compared all the same
    assert "Compared 4 submissions (6 pairs)" in summary


def test_reference_folders(tmp_path):
    single_kit = write_entry(tmp_path / "kit", author_files({}))
    single_course = write_entry(tmp_path / "course", author_files({}, "course"), layout="course")
    many = tmp_path / "lastterm"
    write_entry(many / "x", author_files({}))
    write_entry(many / "y", author_files({}), as_zip=True)
    entries = reference_entries([single_kit, single_course, many, REPO / "a2"])
    assert [e.id for e in entries] == ["kit", "course", "lastterm/x", "lastterm/y", "a2"]
    with pytest.raises(SimilarityError, match="does not exist"):
        reference_entries([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SimilarityError, match="holds neither"):
        reference_entries([tmp_path / "empty"])


def test_what_is_compared_is_given_by_the_caller(tmp_path):
    """The graded functions, the code files and the templates are parameters, so that another
    assignment is compared by passing its own; left out, they are Assignment 2's."""
    assert compared_functions({"f": "toy", "Net": "toy", "g": "other"}, ["toy.py"]) == {"f": "toy.py"}
    subs = tmp_path / "subs"
    copied = author_files({"svm_loss_naive": "B", "nn_forward_backward": "B"})
    write_entry(subs / "a", copied)
    write_entry(subs / "b", copied)

    def compared(out, **kwargs):
        run_similarity(subs, tmp_path / out, **kwargs)
        _, pairs = read_csv(tmp_path / out / "similarity.csv")
        return pairs[frozenset("ab")], (tmp_path / out / "similarity.html").read_text()

    row, page = compared("a2")
    assert set(row["shared_functions"].split()) == {"svm_loss_naive", "nn_forward_backward"}
    assert "<h1>Assignment 2 similarity report</h1>" in page
    one_file = {"functions": {"svm_loss_naive": "linear_classifier", "nn_forward_backward": "two_layer_net"},
                "code_files": [LC], "title": "Toy"}
    row, page = compared("one", **one_file)
    assert row["shared_functions"] == "svm_loss_naive" and float(row["score"]) == 100
    assert int(row["written_a"]) == int(row["tokens_a"]) > 0
    assert "<h1>Toy similarity report</h1>" in page
    row, page = compared("given", templates={"handed out": {LC: copied[LC]}}, **one_file)  # the copy is template
    assert row["shared_functions"] == "" and float(row["score"]) == 0 and int(row["written_a"]) == 0
    assert "The templates (the course&#x27;s" not in page and "(the course's handed out:" in page
    ref = tmp_path / "ref"
    (ref / "a3").mkdir(parents=True)
    (ref / "a3" / LC).write_text(copied[LC])
    assert [e.id for e in reference_entries([ref], scope_of(code_files=[LC], kit_folder="a3"))] == ["ref"]
    assert [e.id for e in reference_entries([ref])] == ["ref/a3"]  # A2's: a folder of submissions


def test_errors(tmp_path):
    with pytest.raises(SimilarityError, match="not a folder"):
        run_similarity(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "subs").mkdir()
    with pytest.raises(SimilarityError, match="inside the submissions folder"):
        run_similarity(tmp_path / "subs", tmp_path / "subs" / "out")
    summary = run_similarity(tmp_path / "subs", tmp_path / "out")  # an empty class: empty report
    assert "Compared 0 submissions" in summary
    assert (tmp_path / "out" / "similarity_histogram.png").read_bytes().startswith(b"\x89PNG")


def test_function_bodies():
    source = textwrap.dedent('''
        import torch

        def svm_loss_naive(W, X, y, reg):
            """Docstring."""
            a = 1
            return a  # end

        def nn_predict(params, loss_func, X): return loss_func(params, X).argmax(dim=1)

        def sample_batch(X, y, n, b):
            raise NotImplementedError

        def sample_batch(X, y, n, b):
            """Redefined: the last one wins."""
            return X[:b], y[:b]

        class TwoLayerNet:
            def nn_train(self):
                pass
        ''')
    found = function_bodies(source, similarity.COMPARED)
    assert set(found) == {"svm_loss_naive", "nn_predict", "sample_batch"}
    assert found["svm_loss_naive"][0] == "a = 1\nreturn a\n"
    assert found["nn_predict"][0].strip() == "return loss_func(params, X).argmax(dim=1)"
    assert found["sample_batch"][0] == "return X[:b], y[:b]\n"
    with pytest.raises(SyntaxError):
        function_bodies("def (:", similarity.COMPARED)


def test_cli(report, tmp_path):
    out = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "grader", "similarity", str(report["subs"]), "--out", str(out),
                           "--reference", str(report["reference"])], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Compared 13 submissions" in proc.stdout
    for name in ("similarity.html", "similarity.csv", "similarity_histogram.png"):
        assert (out / name).stat().st_size > 0
    proc = subprocess.run([sys.executable, "-m", "grader", "similarity", str(tmp_path / "none"), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "not a folder" in proc.stderr


def test_overlap_tokens_agree_with_copydetect(report):
    """The pair stage measures overlaps itself (it runs for every pair that shares anything);
    its figures must be copydetect's compare_files'."""
    from copydetect.detector import compare_files

    template = similarity.load_template()
    codes = {e.id: similarity.read_code(e, "student", template, {}) for e in discover(report["subs"])
             if e.id in ("P1", "P2", "F1", "F2", "I1", "R")}
    checked = 0
    for a, b in itertools.combinations(sorted(codes), 2):
        for function in set(codes[a].bodies) & set(codes[b].bodies):
            fa, fb = codes[a].bodies[function].fp, codes[b].bodies[function].fp
            if not fa.hashes or not fb.hashes:
                continue
            ta, tb = similarity.overlap_tokens(fa, fb, fa.hashes, fb.hashes)
            tokens, (sa, sb), _ = compare_files(fa, fb)
            assert (ta, round(ta / fa.token_coverage, 9), round(tb / fb.token_coverage, 9)) == \
                (tokens, round(sa, 9), round(sb, 9)), (a, b, function)
            checked += ta > 0
    assert checked >= 9  # the P pair's functions and F's nn_forward_backward


@pytest.mark.slow
def test_batch_with_similarity(tmp_path):
    from grader.instructor.batch import run_batch

    subs = tmp_path / "subs"
    q = author_files(PLANS["Q"])
    write_entry(subs / "a", q)
    write_entry(subs / "b", {n: disguise(t) for n, t in q.items()}, layout="course", as_zip=True)
    write_entry(subs / "c", author_files({}))
    (subs / "d.zip").write_bytes(b"broken")
    run_batch(subs, tmp_path / "out", similarity=True, progress_stream=io.StringIO())
    rows, pairs = read_csv(tmp_path / "out" / "similarity.csv")
    assert set(pairs) == {frozenset(p) for p in itertools.combinations("abc", 2)}
    assert float(pairs[frozenset("ab")]["score"]) >= 90 and pairs[frozenset("ac")]["score"] == "0.00"
    assert [r["a"] for r in rows if r["kind"] == "not compared"] == ["d"]
    assert (tmp_path / "out" / "similarity.html").is_file() and (tmp_path / "out" / "report.html").is_file()


def _hashes_otherwise(chunk, template, probe):
    return None  # what a worker whose string hashes differ from the parent's answers


def test_reading_in_processes_gives_the_same_codes(report, monkeypatch):
    entries = discover(report["subs"])
    tasks = [(e, "student") for e in entries] * 3  # 45 entries: enough for processes
    assert len(tasks) >= 40
    template = similarity.load_template()
    real = similarity.read_code

    def tagged(entry, kind, template, cache):
        code = real(entry, kind, template, cache)
        code.pid = os.getpid()
        return code

    def figures(codes):
        return [(c.id, c.why) if isinstance(c, similarity.Broken) else
                (c.id, c.written, {f: (b.line, sorted(b.fp.hashes)) for f, b in c.bodies.items()}, c.notes)
                for c in codes]

    monkeypatch.setattr(similarity_read, "read_code", tagged)
    serial = similarity.read_all(tasks, template, jobs=1)
    assert {c.pid for c in serial} == {os.getpid()}
    forked = similarity.read_all(tasks, template, jobs=2)
    assert os.getpid() not in {c.pid for c in forked}
    assert figures(forked) == figures(serial)
    assert similarity_read._read_chunk(tasks[:2], template, hash(similarity_read._PROBE) + 1) is None
    monkeypatch.setattr(similarity_read, "_read_chunk", _hashes_otherwise)
    fallback = similarity.read_all(tasks, template, jobs=2)
    assert {c.pid for c in fallback} == {os.getpid()}  # read again in this process
    assert figures(fallback) == figures(serial)


def test_hostile_files_give_notes_not_crashes(tmp_path):
    subs = tmp_path / "subs"
    p = author_files(PLANS["P"])
    write_entry(subs / "copied", p)
    nulls = write_entry(subs / "nulls", {LC: "x = 1\n\x00\n", TLN: template(TLN)})
    deep = "def svm_loss_naive(W, X, y, reg):\n    return " + "(" * 300 + "1" + ")" * 300 + "\n"
    write_entry(subs / "deep", {LC: deep, TLN: template(TLN)})
    write_entry(subs / "huge", {LC: "# " + "x" * (similarity.LARGE + 10) + "\n" + p[LC], TLN: template(TLN)})
    latin = write_entry(subs / "latin", {LC: "", TLN: ""})
    (latin / "a2" / LC).write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + p[LC].encode())
    (latin / "a2" / TLN).write_bytes(b"\xff\xfe not utf-8 \x81\n" + template(TLN).encode())
    assert nulls.exists()
    summary = run_similarity(subs, tmp_path / "out")
    text = (tmp_path / "out" / "similarity.html").read_text()
    notes = dict(re.findall(r"<tr><td>(\w+)</td><td>([^<]*)</td></tr>", text.split("<h2>Notes</h2>")[1]))
    assert "linear_classifier.py" in notes["nulls"] and "not compared" in notes["nulls"]
    assert "linear_classifier.py" in notes["deep"] and "not compared" in notes["deep"]
    assert "huge" not in notes  # a file past 1 MiB is compared all the same
    assert "two_layer_net.py" in notes["latin"]  # undecodable bytes: does not parse
    rows, pairs = read_csv(tmp_path / "out" / "similarity.csv")
    assert float(pairs[frozenset(("copied", "latin"))]["score"]) >= 90  # the coding cookie is honoured
    assert float(pairs[frozenset(("copied", "huge"))]["score"]) >= 90
    assert "Compared 5 submissions" in summary


# --------------------------------------------------------------------------------------------
# Copies dressed up to hide: bodies moved into helpers, padding past 1 MiB, dead statements.


def graded_in(source):
    return [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name in FILE_OF]


def into_helpers(source, how="wrapper"):
    """Every graded function's body moved into a module-level helper ``_<name>_impl``; the
    graded name calls it (``wrapper``), is bound to it (``alias``) or to a lambda (``lambda``)."""
    lines = source.splitlines(keepends=True)
    tail = []
    for node in sorted(graded_in(source), key=lambda n: -n.lineno):
        args = [a.arg for a in node.args.args]
        call = f"_{node.name}_impl({', '.join(args)})"
        line = lines[node.lineno - 1]
        lines[node.lineno - 1] = line.replace(f"def {node.name}(", f"def _{node.name}_impl(", 1)
        if how == "alias":
            tail.append(f"{node.name} = _{node.name}_impl\n")
        elif how == "lambda":
            tail.append(f"{node.name} = lambda {', '.join(args)}: {call}\n")
        else:
            tail.append(f"\n\ndef {node.name}({', '.join(args)}):\n    return {call}\n")
    result = "".join(lines) + "\n" + "".join(reversed(tail))
    ast.parse(result)
    return result


DEAD = ["_pad{i} = {i}", "pass", 'print(end="")', "_shape{i} = len('{i}')", "if False:\n{indent}    _never = {i}",
        "assert True", "None", "_u{i} = _v{i} = {i} * 2", "{i}", "_gone{i} = 0\n{indent}del _gone{i}"]


def with_dead_statements(source):
    """A dead statement after every statement of every graded function (and its helpers'),
    rotating through kinds that cannot change a result."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    after = {}
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        parents = {id(c): p for p in ast.walk(fn) for c in ast.iter_child_nodes(p)}
        for node in ast.walk(fn):
            if not isinstance(node, ast.stmt) or node is fn or isinstance(node, ast.Return):
                continue
            if parents.get(id(node)) is not None and getattr(parents[id(node)], "lineno", 0) == node.lineno:
                continue  # a one-line compound's body
            line = lines[node.lineno - 1]
            if line[:node.col_offset].strip():
                continue
            after.setdefault(node.end_lineno, []).append(line[:node.col_offset])
    out, i = [], 0
    for number, line in enumerate(lines, start=1):
        out.append(line)
        for indent in sorted(after.get(number, ()), key=len, reverse=True):  # innermost first
            out.append(indent + DEAD[i % len(DEAD)].format(i=i, indent=indent) + "\n")
            i += 1
    result = "".join(out)
    ast.parse(result)
    return result


WRAPPERS = {"if": ("if True:", ""), "try": ("try:", "except Exception:\n{indent}    raise"),
            "pass": ("try:", "except ValueError:\n{indent}    pass"),
            "with": ("with contextlib.nullcontext():", ""), "for": ("for _once in range(1):", "")}


def wrapped(source, kinds=("if",)):
    """Every top-level statement of every graded function inside its own wrapper that changes
    nothing (``if True:``, ``try: ... except: raise``, ``with nullcontext():``, ...)."""
    lines = source.splitlines(keepends=True)
    k = 0
    for fn in sorted(graded_in(source), key=lambda n: -n.lineno):
        body = fn.body[1:] if isinstance(fn.body[0], ast.Expr) else fn.body
        for node in reversed(body):
            if lines[node.lineno - 1][:node.col_offset].strip():
                continue
            head, tail = WRAPPERS[kinds[k % len(kinds)]]
            k += 1
            indent = lines[node.lineno - 1][:node.col_offset]
            for n in range(node.lineno - 1, node.end_lineno):
                lines[n] = "    " + lines[n] if lines[n].strip() else lines[n]
            if tail:
                lines.insert(node.end_lineno, indent + tail.format(indent=indent) + "\n")
            lines.insert(node.lineno - 1, f"{indent}{head}\n")
    result = "import contextlib\n" + "".join(lines) if "with" in kinds else "".join(lines)
    ast.parse(result)
    return result


def nested(source):
    """Every graded function's body moved into a function nested in it, then a static method
    of a module-level class that the graded name is bound to (two files, two ways)."""
    lines = source.splitlines(keepends=True)
    tail = []
    for fn in sorted(graded_in(source), key=lambda n: -n.lineno):
        args = ", ".join(a.arg for a in fn.args.args)
        start = (fn.body[1] if isinstance(fn.body[0], ast.Expr) and len(fn.body) > 1 else fn.body[0]).lineno
        for n in range(start - 1, fn.end_lineno):
            lines[n] = "    " + lines[n] if lines[n].strip() else lines[n]
        lines.insert(start - 1, "    def _inner():\n")
        lines.insert(fn.end_lineno + 1, "    return _inner()\n")
    result = "".join(lines)
    ast.parse(result)
    return result


def static_methods(source):
    """Every graded function a static method of one module-level class; the names bound to them."""
    lines = source.splitlines(keepends=True)
    methods = []
    for fn in sorted(graded_in(source), key=lambda n: -n.lineno):
        methods.append(textwrap.indent("@staticmethod\n" + "".join(lines[fn.lineno - 1:fn.end_lineno]), "    "))
        del lines[fn.lineno - 1:fn.end_lineno]
    result = "".join(lines) + "\n\nclass _Work:\n" + "\n".join(reversed(methods)) + "\n\n" + "".join(
        f"{fn.name} = _Work.{fn.name}\n" for fn in graded_in(source))
    ast.parse(result)
    return result


def with_live_noise(source):
    """After every statement, one that reads the function's first argument and changes nothing."""
    lines = source.splitlines(keepends=True)
    out = {}
    for fn in graded_in(source):
        first = fn.args.args[0].arg if fn.args.args else "None"
        for node in ast.walk(fn):
            if isinstance(node, ast.stmt) and node is not fn and not isinstance(node, ast.Return) \
                    and not lines[node.lineno - 1][:node.col_offset].strip():
                kind = len(out) % 3
                noise = [f"_seen{len(out)} = {first}", f"_size{len(out)} = len(str({first}))",
                         f"str({first})"][kind]
                out.setdefault(node.end_lineno, []).append(lines[node.lineno - 1][:node.col_offset] + noise + "\n")
    innermost_first = lambda x: len(x.lstrip()) - len(x)  # noqa: E731
    result = "".join(line + "".join(sorted(out.get(n, ()), key=innermost_first)) for n, line in enumerate(lines, start=1))
    ast.parse(result)
    return result


def padded(source, megabytes=1.3):
    """``source`` past ``megabytes`` MiB: a comment block, a module-level string nobody reads,
    and a long run of dead statements in the first graded function."""
    block = ("# " + "padding " * 9 + "\n") * int(megabytes * (1 << 20) / 74)
    text = f'{block}_UNUSED = """\n{block}"""\n' + source
    first = graded_in(text)[0]
    lines = text.splitlines(keepends=True)
    indent = " " * first.body[0].col_offset
    lines.insert(first.body[0].lineno - 1, "".join(f"{indent}_dead{k} = {k}\n" for k in range(5000)))
    result = "".join(lines)
    assert len(result.encode()) > 2 * (1 << 20) and ast.parse(result)
    return result


@pytest.fixture(scope="module")
def hidden_copies(tmp_path_factory):
    """P's work, and copies of it: helpers (three ways), padded past 1 MiB, dead statements after
    every statement; independent authors beside them."""
    subs = tmp_path_factory.mktemp("hidden") / "subs"
    p = author_files(PLANS["P"])
    write_entry(subs / "P", p)
    write_entry(subs / "helpers", {n: disguise(into_helpers(t)) for n, t in p.items()})
    write_entry(subs / "aliases", {LC: into_helpers(p[LC], "alias"), TLN: into_helpers(p[TLN], "lambda")},
                layout="course")
    # the helpers live in the other file: two_layer_net.py takes them from linear_classifier.py
    moved = into_helpers(p[TLN])
    impls = [n for n in ast.parse(moved).body if isinstance(n, ast.FunctionDef) and n.name.endswith("_impl")]
    tln = moved
    for node in impls:
        tln = tln.replace(ast.get_source_segment(moved, node), "")
    names = ", ".join(n.name for n in impls)
    tln = tln.replace("from .linear_classifier import", f"from .linear_classifier import {names},", 1)
    helpers = "".join(f"\n\n{ast.get_source_segment(moved, n)}\n" for n in impls)
    write_entry(subs / "other_file", {LC: p[LC] + helpers, TLN: tln})
    write_entry(subs / "padded", {n: padded(disguise(t)) for n, t in p.items()})
    write_entry(subs / "dead", {n: with_dead_statements(disguise(t)) for n, t in p.items()})
    # beyond the list
    write_entry(subs / "wrapped", {n: wrapped(disguise(t)) for n, t in p.items()})
    write_entry(subs / "nested", {LC: with_dead_statements(nested(p[LC])), TLN: static_methods(p[TLN])})
    write_entry(subs / "noise", {n: with_live_noise(disguise(t)) for n, t in p.items()})
    write_entry(subs / "wrappers", {n: wrapped(disguise(t), ("try", "with", "for", "pass")) for n, t in p.items()})
    for author in ("Q", "F1", "I1", "I2", "I3"):
        write_entry(subs / author, author_files(PLANS[author]))
    out = subs.parent / "out"
    summary = run_similarity(subs, out)
    rows, pairs = read_csv(out / "similarity.csv")
    return {"summary": summary, "rows": rows, "pairs": pairs, "html": (out / "similarity.html").read_text()}


INDEPENDENT = ("Q", "F1", "I1", "I2", "I3")


@pytest.mark.parametrize("copy, least", [("helpers", 90), ("aliases", 90), ("other_file", 90), ("padded", 90),
                                         ("dead", 90), ("wrapped", 90), ("noise", 90), ("wrappers", 90),
                                         ("nested", 80)])
def test_hidden_copies_score_as_copies(hidden_copies, copy, least):
    """Moving bodies into helpers (in this file or the other, by wrapper, alias or lambda),
    padding past 1 MiB, a dead statement after every statement (constants, or reading live
    names), every statement in its own ``if True:`` (or ``try: ... except: raise``, ``with
    nullcontext():``, ``for _ in range(1):``), bodies in nested functions or static
    methods leave a copy a copy: near 100 % (the nested function's own glue lines count as
    written), above every pair of independent students and above the cluster line, with the
    copied functions named."""
    row = hidden_copies["pairs"][frozenset(("P", copy))]
    assert float(row["score"]) >= least, row
    assert float(row["percent_a"]) >= least - 5 and float(row["percent_b"]) >= least - 10, row
    assert {"svm_loss_naive", "svm_loss_vectorized", "softmax_loss_naive", "softmax_loss_vectorized",
            "sample_batch", "test_one_param_set"} <= set(row["shared_functions"].split()), row
    independent = [r for k, r in hidden_copies["pairs"].items() if k <= set(INDEPENDENT)]
    assert len(independent) == 10
    assert float(row["score"]) > max(float(r["score"]) for r in independent) + 50
    assert float(row["score"]) >= 100 * similarity.CLUSTER_SCORE
    # copies of P are copies of each other too: one cluster holds them all
    section = hidden_copies["html"].split("<h2>Clusters of three or more")[1].split("<h2>")[0]
    assert "<li>10 submissions: P, aliases, dead, helpers, nested, noise, other_file, padded, wrapped, wrappers</li>" \
        in section


def test_hidden_copies_show_what_was_compared(hidden_copies):
    """The side-by-side view shows the helper a graded function runs, under a line naming it,
    and leaves the padding out."""
    side = hidden_copies["html"].split("<h2>Side by side</h2>")[1]
    assert "_svm_loss_naive_impl (linear_classifier.py, line" in side
    assert "which svm_loss_naive runs" in side
    assert "_dead17 = 17" not in side and "_pad" not in side and "padding padding" not in side
    assert len(hidden_copies["html"]) < 3 * (1 << 20)


def test_files_beyond_what_can_be_parsed_get_a_note(tmp_path, monkeypatch):
    """Files are read up to the submission limit; one with more lines of code than the parser
    is given (comments do not count) is not compared, and its note says why."""
    monkeypatch.setattr(similarity_source, "LARGE", 1000)
    monkeypatch.setattr(similarity_source, "MAX_LINES", 2000)
    subs = tmp_path / "subs"
    p = author_files(PLANS["P"])
    write_entry(subs / "P", p)
    write_entry(subs / "comments", {LC: "# x\n" * 50_000 + p[LC], TLN: p[TLN]})
    write_entry(subs / "lines", {LC: "_x = 0\n" * 3000 + p[LC], TLN: p[TLN]})
    monkeypatch.setattr(similarity_source, "MAX_SOURCE", 300_000)  # the comments' file has about 230 000 bytes
    write_entry(subs / "huge", {LC: "# " + "x" * 400_000 + "\n" + p[LC], TLN: p[TLN]})
    run_similarity(subs, tmp_path / "out")
    _, pairs = read_csv(tmp_path / "out" / "similarity.csv")
    assert float(pairs[frozenset(("P", "comments"))]["score"]) == 100
    text = (tmp_path / "out" / "similarity.html").read_text()
    notes = dict(re.findall(r"<tr><td>(\w+)</td><td>([^<]*)</td></tr>", text.split("<h2>Notes</h2>")[1]))
    assert "linear_classifier.py holds more than 2,000 lines" in notes["lines"], notes
    assert "linear_classifier.py is larger than a submission may be" in notes["huge"], notes
    assert "comments" not in notes


# --------------------------------------------------------------------------------------------
# The course's templates are template; a handful of tokens never tops the list.


def course_template(term):
    """The course's template of ``term`` ("f20" or "w22") handed in with nothing filled in."""
    import course_corpus

    style = next(s for s in course_corpus.STYLE_LIST if s.term == term)
    style = course_corpus.Style("blank", term, "nothing filled in", style.lc, style.tln)  # no imports added
    real = course_corpus._body
    course_corpus._body = lambda region, variant: "pass"
    try:
        return {name: course_corpus.render_file(name, style) for name in course_corpus.FILES}
    finally:
        course_corpus._body = real


@pytest.fixture(scope="module")
def course_class(tmp_path_factory):
    from course_corpus import render

    subs = tmp_path_factory.mktemp("course") / "subs"
    for name, term in (("blank_w22_a", "w22"), ("blank_w22_b", "w22"), ("blank_f20_a", "f20"),
                       ("blank_f20_b", "f20")):
        write_entry(subs / name, course_template(term), layout="course")
    done = render("w22_logsumexp_F_one_hot")
    write_entry(subs / "done", done, layout="course")
    write_entry(subs / "copied", {n: disguise(t) for n, t in done.items()}, layout="course")
    f20 = render("f20_inplace_relu_percent")
    write_entry(subs / "done_f20", f20, layout="course")
    write_entry(subs / "copied_f20", {n: disguise(t, note="# mine") for n, t in f20.items()}, layout="course")
    write_entry(subs / "independent", render("w22_item_heavy"), layout="course")
    out = subs.parent / "out"
    summary = run_similarity(subs, out)
    rows, pairs = read_csv(out / "similarity.csv")
    return {"summary": summary, "rows": rows, "pairs": pairs, "html": (out / "similarity.html").read_text()}


def test_unfilled_course_templates_share_nothing(course_class):
    """Two students who hand in the course's template (either term) with nothing filled in
    share no code they wrote: the given lines of train_linear_classifier, nn_train and the
    rest are template."""
    blanks = [k for k in course_class["pairs"] if all(x.startswith("blank") for x in k)]
    assert len(blanks) == 6
    for key in blanks:
        row = course_class["pairs"][key]
        assert float(row["score"]) <= 2 and int(row["tokens_a"]) < similarity.MIN_TOKENS, row
    # and what an unfilled template holds counts as nothing written
    for row in course_class["rows"]:
        if row["kind"] == "pair" and row["a"].startswith("blank"):
            assert int(row["written_a"]) < similarity.MIN_TOKENS, row


def test_unfilled_course_templates_rank_below_real_copies(course_class):
    ranked = [frozenset((r["a"], r["b"])) for r in course_class["rows"] if r["kind"] == "pair"]
    assert set(ranked[:2]) == {frozenset(("done", "copied")), frozenset(("done_f20", "copied_f20"))}, ranked[:4]
    for pair in (("done", "copied"), ("done_f20", "copied_f20")):
        assert float(course_class["pairs"][frozenset(pair)]["score"]) >= 90
    first_blank = min(i for i, k in enumerate(ranked) if all(x.startswith("blank") for x in k))
    assert first_blank > 1
    # an honest course-layout student shares little with a copied pair
    assert float(course_class["pairs"][frozenset(("done", "independent"))]["score"]) < 30


def test_course_given_code_matches_the_corpus():
    """The grader's rendition of the course's given code is the tests' course corpus, line for
    line (docstrings, comments and blank lines left out)."""
    from grader.assignments.a2.instructor.course_given import COURSE_TEMPLATES

    def strip(source):
        tree = ast.parse(source)
        drop = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body:
                first = node.body[0]
                if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
                        isinstance(first.value.value, str):
                    drop.update(range(first.lineno, first.end_lineno + 1))
        return "".join(line.rstrip() + "\n" for i, line in enumerate(source.splitlines(), start=1)
                       if i not in drop and line.strip() and not line.strip().startswith("#"))

    for label, term in (("Fall 2020", "f20"), ("Winter 2022", "w22")):
        for name, source in course_template(term).items():
            assert COURSE_TEMPLATES[label][name] == strip(source), (label, name)


def test_a_handful_of_tokens_never_tops_the_list(tmp_path):
    """A pair that shares one short function (100 % of almost nothing) ranks after a pair that
    shares hundreds of tokens at a lower percent; both figures are shown beside the percent."""
    subs = tmp_path / "subs"
    write_entry(subs / "tiny_a", author_files({"svm_get_search_params": "A"}))
    write_entry(subs / "tiny_b", author_files({"svm_get_search_params": "A"}))
    write_entry(subs / "F1", author_files(PLANS["F1"]))
    f2 = author_files(PLANS["F2"])
    f2[TLN] = replace_bodies(f2[TLN], {"nn_forward_backward": V["nn_forward_backward"]["B"]})
    write_entry(subs / "F2", f2)
    write_entry(subs / "tiny_c", author_files({"svm_get_search_params": "A", "sample_batch": "C"}))
    summary = run_similarity(subs, tmp_path / "out")
    rows, pairs = read_csv(tmp_path / "out" / "similarity.csv")
    tiny = pairs[frozenset(("tiny_a", "tiny_b"))]
    f = pairs[frozenset(("F1", "F2"))]
    assert float(tiny["score"]) == 100 and 0 < int(tiny["tokens_a"]) < similarity.MIN_TOKENS, tiny
    assert "ranked after the others" in tiny["note"]
    assert float(f["score"]) < 60 and int(f["tokens_a"]) >= 200, f
    ranked = [frozenset((r["a"], r["b"])) for r in rows if r["kind"] == "pair"]
    assert ranked[0] == frozenset(("F1", "F2")), ranked[:3]
    assert ranked.index(frozenset(("tiny_a", "tiny_b"))) > ranked.index(frozenset(("F1", "F2")))
    # the tiny trio is no cluster, and the summary's count leaves it out
    assert "0 clusters" in summary and "1 pair shares 30% or more" in summary
    text = (tmp_path / "out" / "similarity.html").read_text()
    table = text.split("<h2>Student pairs")[1].split("<h2>")[0]
    row = re.search(r"<td>tiny_a</td><td>tiny_b</td><td>100\.0% <small>\((\d+) of (\d+) tokens\)</small>", table)
    assert row and int(row[1]) == int(row[2]) == int(tiny["tokens_a"]) + int(tiny["tokens_b"]), table[:2000]
    assert f"fewer than {similarity.MIN_TOKENS} tokens shared" in table
    assert int(tiny["written_a"]) == int(tiny["tokens_a"])
