# sitecustomize.py - weft's Python hook (weft record puts this directory first
# in PYTHONPATH). SPDX-License-Identifier: MIT
#
# It names Python threads in the recording after threading's name and the
# function they run ("ThreadPoolExecutor-0_0 (_worker)"), and a
# multiprocessing child's main thread after its process ("ForkPoolWorker-1";
# "ForkProcess-1 (crunch)" when it runs the program's own function),
# through the agent's weft_name_thread: only the recording sees the names, not
# the OS or the program. It imports nothing at start-up (threading and
# multiprocessing.process are patched when the program imports them; ctypes
# at the first name). Without the agent (WEFT_OUTPUT unset, or no
# weft_name_thread in the process) it names nothing. Then it imports the
# sitecustomize this one hides, if there is one, and takes its own directory
# out of sys.path, so the program sees what it would have seen without weft.
# Nothing here may raise into the program.
import os
import sys


def _weft_setup():
    if not os.environ.get("WEFT_OUTPUT"):
        return
    found = []  # [the agent's weft_name_thread, or None], resolved at the first name

    def name(s):
        if not found:
            fn = None
            try:
                import ctypes
                fn = ctypes.PyDLL(None).weft_name_thread  # (PyDLL: the GIL stays held, no hand-off)
                fn.argtypes = [ctypes.c_char_p]
                fn.restype = None
            except Exception:
                fn = None
            found.append(fn)
        if found[0] is not None:
            try:
                found[0](s.encode("utf-8", "replace"))
            except Exception:
                pass

    def patch_threading(threading):
        inner = threading.Thread._bootstrap_inner

        def _bootstrap_inner(self):
            try:
                label = self.name
                target = getattr(self, "_target", None)
                what = getattr(target, "__qualname__", None) or getattr(target, "__name__", None)
                if what is None and type(self).run is not threading.Thread.run:
                    what = type(self).__qualname__ + ".run"
                short = getattr(target, "__name__", None)
                # (threading's default names already say "Thread-1 (target)")
                if what and "(%s)" % what not in label and not (short and "(%s)" % short in label):
                    label = "%s (%s)" % (label, what)
                name(label)
            except Exception:
                pass
            return inner(self)

        threading.Thread._bootstrap_inner = _bootstrap_inner

    # a multiprocessing child's main thread is named after its process when
    # it starts (BaseProcess._bootstrap runs in the child), and, when it runs
    # the program's own code, after that too, as a thread is: "Process-1
    # (crunch)", "Worker-2 (Worker.run)" for a subclass with its own run. A
    # pool's workers (their target or class is a library's: the standard
    # library's or an installed package's) keep the process's name.
    stdlib = os.path.dirname(getattr(os, "__file__", None) or "")

    def own_code(where):
        if not isinstance(where, str):
            return False
        if where in ("__main__", "__mp_main__"):
            return True
        path = getattr(sys.modules.get(where), "__file__", None)
        if not isinstance(path, str):
            return False  # (a built-in module)
        return not ("site-packages" in path or "dist-packages" in path or (stdlib and path.startswith(stdlib + os.sep)))

    def patch_process(module):
        boot = module.BaseProcess._bootstrap
        base_run = module.BaseProcess.run

        def _bootstrap(self, *args, **kwargs):
            try:
                label = self.name
                try:
                    cls = type(self)
                    if cls.run is not base_run:
                        what, where = getattr(cls, "__qualname__", cls.__name__) + ".run", cls.__module__
                    else:
                        target = getattr(self, "_target", None)
                        what = getattr(target, "__qualname__", None) or getattr(target, "__name__", None)
                        where = getattr(target, "__module__", None)
                    if isinstance(what, str) and what and " " not in what and own_code(where):
                        label = "%s (%s)" % (label, what)
                except Exception:
                    pass
                name(label)
            except Exception:
                pass
            return boot(self, *args, **kwargs)

        module.BaseProcess._bootstrap = _bootstrap

    # Each module is patched when the program imports it, not before: the
    # program's import order stays its own (gevent, for one, wants to come
    # before threading), and multiprocessing takes 15 ms to import.
    patches = {"threading": patch_threading, "multiprocessing.process": patch_process}

    def apply(module, patch):
        try:
            patch(module)
        except Exception:
            pass

    for mod in list(patches):
        if mod in sys.modules:
            apply(sys.modules[mod], patches.pop(mod))
    if not patches:
        return

    class Finder:
        def find_spec(self, fullname, path=None, target=None):
            patch = patches.pop(fullname, None)
            if patch is None:
                return None
            if not patches:
                try:
                    sys.meta_path.remove(self)
                except ValueError:
                    pass
            try:
                import importlib.util
                spec = importlib.util.find_spec(fullname)  # (this finder no longer answers for it)
                loader = spec.loader if spec else None
                run = getattr(loader, "exec_module", None)
                if run is None:
                    return spec

                def exec_module(module):
                    run(module)
                    apply(module, patch)

                loader.exec_module = exec_module
                return spec
            except Exception:
                return None

    sys.meta_path.insert(0, Finder())


def _weft_chain():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    # the import that runs this file takes the module back out of
    # sys.modules when it is done: the hidden one goes there, else this one
    me = sys.modules.pop("sitecustomize", None)
    try:
        import importlib
        importlib.import_module("sitecustomize")
    except ImportError as e:
        if e.name != "sitecustomize":
            sys.modules["sitecustomize"] = me
            raise
        sys.modules["sitecustomize"] = me


try:
    _weft_setup()
except Exception:
    pass
_weft_chain()
del _weft_setup, _weft_chain
