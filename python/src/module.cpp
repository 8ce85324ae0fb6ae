// module.cpp — moescope._moescope: the C++ engine, trace and commands for the Python package
// (python/moescope/ wraps it in the documented API). Errors: moescope::Error (and the CLI's
// UsageError) become moescope.Error, a ValueError, with the same message the CLI prints.
#include <cstring>
#include <filesystem>

#include <nanobind/stl/string.h>

#include "engine/cpu/blas_core.h"
#include "engine/error.h"
#include "python/src/bindings.h"

namespace nb = nanobind;

NB_MODULE(_moescope, m) {
  m.doc() = "moescope's C++ core: models, routing records, workspaces and the moescope-cli commands";
  static nb::exception<moescope::Error> error(m, "Error", PyExc_ValueError);
  // The message may quote bytes of a bad input that are not UTF-8 (a corpus line in Latin-1): they
  // are replaced, never a UnicodeDecodeError instead of the error. A file-system failure (a folder
  // that cannot be made, a full disk) reads as the CLI's error too.
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    auto raise = [](const char* what) {
      PyObject* message = PyUnicode_DecodeUTF8(what, Py_ssize_t(std::strlen(what)), "replace");
      PyErr_SetObject(error.ptr(), message);
      Py_XDECREF(message);
    };
    try {
      std::rethrow_exception(p);
    } catch (const moescope::Error& e) {
      raise(e.what());
    } catch (const std::filesystem::filesystem_error& e) {
      raise(e.what());
    }
  });
  m.attr("__version__") = MOESCOPE_VERSION;
  // OpenBLAS's kernels (engine/cpu/blas_core.h): the package checks them before it imports this
  // module for good, as moescope-cli restarts itself, so both compute with the same kernels.
  m.def("blas_core_name", &moescope::blas_core_name);
  m.def("blas_core_for_cpu_features", &moescope::blas_core_for_cpu_features);
  moescope::python::bind_model(m);
  moescope::python::bind_workspace(m);
  moescope::python::bind_commands(m);
}
