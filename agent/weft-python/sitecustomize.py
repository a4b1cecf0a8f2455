# sitecustomize.py - weft's Python hook (weft record puts this directory first
# in PYTHONPATH). SPDX-License-Identifier: MIT
#
# It names Python threads in the recording after threading's name and the
# function they run ("ThreadPoolExecutor-0_0 (_worker)"), and a
# multiprocessing child's main thread after its process ("ForkPoolWorker-1"),
# through the agent's weft_name_thread: only the recording sees the names, not
# the OS or the program. Without the agent (WEFT_OUTPUT unset, or no
# weft_name_thread in the process) it does nothing. Then it imports the
# sitecustomize this one hides, if there is one, and takes its own directory
# out of sys.path, so the program sees what it would have seen without weft.
# Nothing here may raise into the program.
import os
import sys


def _weft_setup():
    if not os.environ.get("WEFT_OUTPUT"):
        return
    import ctypes
    try:
        fn = ctypes.PyDLL(None).weft_name_thread  # (PyDLL: the GIL stays held, no hand-off)
    except (AttributeError, OSError):
        return
    fn.argtypes = [ctypes.c_char_p]
    fn.restype = None

    def name(s):
        try:
            fn(s.encode("utf-8", "replace"))
        except Exception:
            pass

    import threading
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

    # multiprocessing.process, when the program imports it (not before: the
    # package takes 15 ms to import): a child's main thread is named after
    # its process when it starts (BaseProcess._bootstrap runs in the child)
    def patch_process(module):
        try:
            boot = module.BaseProcess._bootstrap

            def _bootstrap(self, *args, **kwargs):
                try:
                    name(self.name)
                except Exception:
                    pass
                return boot(self, *args, **kwargs)

            module.BaseProcess._bootstrap = _bootstrap
        except Exception:
            pass

    class Finder:
        def find_spec(self, fullname, path=None, target=None):
            if fullname != "multiprocessing.process":
                return None
            try:
                sys.meta_path.remove(self)
            except ValueError:
                pass
            try:
                import importlib.util
                spec = importlib.util.find_spec(fullname)
                loader = spec.loader if spec else None
                run = getattr(loader, "exec_module", None)
                if run is None:
                    return spec

                def exec_module(module):
                    run(module)
                    patch_process(module)

                loader.exec_module = exec_module
                return spec
            except Exception:
                return None

    if "multiprocessing.process" in sys.modules:
        patch_process(sys.modules["multiprocessing.process"])
    else:
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
