// bindings.h — the pieces of the extension module moescope._moescope, one file each, and the
// helpers they share: numpy arrays that own a moved std::vector, JSON to Python objects.
// Shape legend (as in the engine): T tokens, K experts per token, E experts, Es standard experts,
// Lm MoE layers, D domains.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace moescope::python {

namespace nb = nanobind;

void bind_model(nb::module_& m);
void bind_workspace(nb::module_& m);
void bind_commands(nb::module_& m);

}  // namespace moescope::python
namespace moescope {
class Model;
}
namespace moescope::python {
// The engine model of a moescope._moescope.Model, and the subset file it was loaded with ("" none).
moescope::Model& model_of(nb::handle py_model);
std::string model_keep_of(nb::handle py_model);

// A numpy array over v's data without a copy: the array owns the vector.
template <class T>
nb::object numpy_array(std::vector<T>&& v, std::vector<size_t> shape) {
  auto* owned = new std::vector<T>(std::move(v));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::cast(nb::ndarray<nb::numpy, T>(owned->data(), shape.size(), shape.data(), owner));
}

// JSON as Python objects (dict, list, str, float, int, bool, None), through Python's json module.
inline nb::object to_python(const nlohmann::json& j) {
  return nb::module_::import_("json").attr("loads")(j.dump());
}

// UTF-8 bytes as str; bytes that are not UTF-8 (a byte-level token cut inside a character) are
// replaced rather than refused.
inline nb::str utf8_str(const std::string& s) {
  return nb::steal<nb::str>(PyUnicode_DecodeUTF8(s.data(), Py_ssize_t(s.size()), "replace"));
}

}  // namespace moescope::python
