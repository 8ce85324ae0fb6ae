# Optional dependencies: each one is found and used, or cleanly off. None can stop the configure
# step: a package's own CMake config may call find_package(... REQUIRED) for things we never use
# (Debian's oneDNN asks for OpenCL), so optional libraries are looked up by header and library and
# checked with a small compile of our own. Each prints exactly one status line:
#   moescope: <name>: on (<what is used>)   or   moescope: <name>: off (<why>; <how to get it>)
# An explicit -DMOESCOPE_<NAME>=ON that cannot be met is the only way configure stops here.
include(CheckCXXSourceCompiles)
include(CMakePushCheckState)

function(moescope_dependency_status name state detail)
  message(STATUS "moescope: ${name}: ${state} (${detail})")
endfunction()

# OpenBLAS (OpenMP build). Eigen's own GEMM is portable; Debian's OpenMP build of OpenBLAS is
# markedly faster on AVX-512 machines and, being OpenMP-aware, runs single-threaded inside our
# parallel expert loops.
set(MOESCOPE_BLAS_LIB "")
if(MOESCOPE_OPENBLAS)
  find_library(MOESCOPE_OPENBLAS_OMP NAMES openblas
    PATHS /usr/lib/x86_64-linux-gnu/openblas-openmp /usr/lib/aarch64-linux-gnu/openblas-openmp NO_DEFAULT_PATH)
  if(MOESCOPE_OPENBLAS_OMP)
    set(MOESCOPE_BLAS_LIB ${MOESCOPE_OPENBLAS_OMP})
    target_compile_definitions(moescope_options INTERFACE EIGEN_USE_BLAS)
    get_filename_component(_blas_dir ${MOESCOPE_OPENBLAS_OMP} DIRECTORY)
    target_link_options(moescope_options INTERFACE "-Wl,-rpath,${_blas_dir}")
    moescope_dependency_status("OpenBLAS" on "FP32 GEMMs through ${MOESCOPE_OPENBLAS_OMP}")
  else()
    moescope_dependency_status("OpenBLAS" off "OpenMP build not found, FP32 GEMMs through Eigen; libopenblas-openmp-dev")
  endif()
else()
  moescope_dependency_status("OpenBLAS" off "MOESCOPE_OPENBLAS=OFF, FP32 GEMMs through Eigen")
endif()

# oneDNN for `--precision bf16` (AMX / AVX512-BF16 kernels); without it that mode runs a portable
# path with the same rounding. Found by header + library, never through dnnl-config.cmake (see top).
set(MOESCOPE_DNNL_LIB "")
if(MOESCOPE_DNNL)
  find_path(MOESCOPE_DNNL_INCLUDE_DIR dnnl.hpp)
  find_library(MOESCOPE_DNNL_LIBRARY NAMES dnnl)
  if(MOESCOPE_DNNL_INCLUDE_DIR AND MOESCOPE_DNNL_LIBRARY)
    cmake_push_check_state(RESET)
    set(CMAKE_REQUIRED_INCLUDES ${MOESCOPE_DNNL_INCLUDE_DIR})
    set(CMAKE_REQUIRED_LIBRARIES ${MOESCOPE_DNNL_LIBRARY})
    set(CMAKE_REQUIRED_QUIET ON)
    unset(MOESCOPE_DNNL_LINKS CACHE)  # checked at every configure: a repaired oneDNN is picked up
    check_cxx_source_compiles("
      #include <dnnl.hpp>
      int main() { dnnl::engine e(dnnl::engine::kind::cpu, 0); return e ? 0 : 1; }"
      MOESCOPE_DNNL_LINKS)
    cmake_pop_check_state()
  endif()
  if(MOESCOPE_DNNL_LINKS)
    add_library(moescope_dnnl INTERFACE)
    target_include_directories(moescope_dnnl SYSTEM INTERFACE ${MOESCOPE_DNNL_INCLUDE_DIR})
    target_link_libraries(moescope_dnnl INTERFACE ${MOESCOPE_DNNL_LIBRARY})
    set(MOESCOPE_DNNL_LIB moescope_dnnl)
    target_compile_definitions(moescope_options INTERFACE MOESCOPE_HAVE_DNNL)
    moescope_dependency_status("oneDNN" on "BF16 GEMMs through ${MOESCOPE_DNNL_LIBRARY}")
  elseif(MOESCOPE_DNNL_INCLUDE_DIR AND MOESCOPE_DNNL_LIBRARY)
    moescope_dependency_status("oneDNN" off "${MOESCOPE_DNNL_LIBRARY} found but a test program did not build against it; BF16 GEMMs on the portable path")
  else()
    moescope_dependency_status("oneDNN" off "not found, BF16 GEMMs on the portable path; libdnnl-dev")
  endif()
else()
  moescope_dependency_status("oneDNN" off "MOESCOPE_DNNL=OFF, BF16 GEMMs on the portable path")
endif()

# CUDA: AUTO turns on when nvcc and the toolkit's libraries are present; no GPU is needed to build.
# Device code for A100 (sm_80) and H100/H200 (sm_90a); add more with -DMOESCOPE_CUDA_ARCHITECTURES.
set(MOESCOPE_CUDA_ARCHITECTURES "80;90a" CACHE STRING "CUDA architectures of the kernels in kernels/")
set(MOESCOPE_HAVE_CUDA OFF)
if(NOT MOESCOPE_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  # Through CUDACXX, not CMAKE_CUDA_COMPILER: check_language skips its test when the latter is set.
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(ENV{CUDACXX} /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)   # compiles a test program in a sub-project: a broken nvcc reads as not found
  set(_cuda_why "no working CUDA compiler (nvcc) found")
  if(CMAKE_CUDA_COMPILER)
    get_filename_component(_nvcc_bin ${CMAKE_CUDA_COMPILER} DIRECTORY)
    get_filename_component(CUDAToolkit_ROOT ${_nvcc_bin} DIRECTORY)
    find_package(CUDAToolkit QUIET)
    if(CUDAToolkit_FOUND AND TARGET CUDA::cudart_static AND TARGET CUDA::cublas)
      set(MOESCOPE_HAVE_CUDA ON)
    else()
      set(_cuda_why "nvcc found but not the toolkit's cudart and cuBLAS libraries")
    endif()
  endif()
  if(MOESCOPE_HAVE_CUDA)
    moescope_dependency_status("CUDA" on "backend in kernels/ built with ${CMAKE_CUDA_COMPILER} for ${MOESCOPE_CUDA_ARCHITECTURES}")
  elseif(MOESCOPE_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MOESCOPE_CUDA=ON but ${_cuda_why}")
  else()
    moescope_dependency_status("CUDA" off "${_cuda_why}; the CUDA Toolkit in /usr/local/cuda")
  endif()
else()
  moescope_dependency_status("CUDA" off "MOESCOPE_CUDA=OFF")
endif()

# MPI (Debian's OpenMPI) for `mpirun ... moescope-cli trace`: ranks trace shards of the corpus into
# partial workspaces that rank 0 merges. AUTO turns on when find_package(MPI) finds the C bindings.
set(MOESCOPE_HAVE_MPI OFF)
if(NOT MOESCOPE_MPI STREQUAL "OFF")
  find_package(MPI COMPONENTS C QUIET)
  if(MPI_C_FOUND)
    set(MOESCOPE_HAVE_MPI ON)
    moescope_dependency_status("MPI" on "sharded tracing under mpirun, MPI ${MPI_C_VERSION}")
  elseif(MOESCOPE_MPI STREQUAL "ON")
    message(FATAL_ERROR "MOESCOPE_MPI=ON but MPI was not found (libopenmpi-dev, tools/install-deps.sh)")
  else()
    moescope_dependency_status("MPI" off "not found, trace refuses mpirun launches; libopenmpi-dev openmpi-bin")
  endif()
else()
  moescope_dependency_status("MPI" off "MOESCOPE_MPI=OFF")
endif()
