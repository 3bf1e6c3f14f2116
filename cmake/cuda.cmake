# The CUDA backend, compiled in when a CUDA toolkit (nvcc) is found. Included from the top-level
# CMakeLists.txt after the inferd_core target exists:
#   INFERD_CUDA=AUTO (default): build it when nvcc is found, else build everything else as before;
#   INFERD_CUDA=ON: a missing toolkit is an error;  INFERD_CUDA=OFF: never.
#
# Every binary must still load and run on machines without a GPU, a driver or a CUDA runtime: the
# runtime is linked statically (it opens the driver, libcuda.so, lazily at the first CUDA call, and a
# missing driver is then an error code, not a load failure), and cuBLAS and NVML are opened with
# dlopen at run time when present. Nothing links libcuda, libcublas or libnvidia-ml.
set(INFERD_CUDA AUTO CACHE STRING "Build the CUDA backend: AUTO (when nvcc is found), ON or OFF")
set_property(CACHE INFERD_CUDA PROPERTY STRINGS AUTO ON OFF)

set(INFERD_HAS_CUDA OFF)
if(NOT INFERD_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    # sm_90 machine code (H100/H200) plus sm_90 PTX, which newer GPUs' drivers compile at load.
    # Each added architecture costs a full compile of every kernel file: keep the list short.
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES "90-real;90-virtual")
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(INFERD_HAS_CUDA ON)
  elseif(INFERD_CUDA STREQUAL "ON")
    message(FATAL_ERROR "INFERD_CUDA=ON but no CUDA compiler (nvcc) was found; set CMAKE_CUDA_COMPILER")
  endif()
endif()

if(INFERD_HAS_CUDA)
  message(STATUS "inferd: CUDA backend ON (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES})")
  set(CMAKE_CUDA_FLAGS_RELEASE "-O3 -DNDEBUG")

  # The host compiler's warning and -march flags are for C++ sources only: nvcc rejects them.
  get_target_property(inferd_core_options inferd_core COMPILE_OPTIONS)
  get_directory_property(inferd_dir_options COMPILE_OPTIONS)
  set(inferd_cxx_only_options "")
  foreach(option IN LISTS inferd_core_options inferd_dir_options)
    if(option)
      list(APPEND inferd_cxx_only_options "$<$<COMPILE_LANGUAGE:CXX>:${option}>")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES inferd_cxx_only_options)
  set_target_properties(inferd_core PROPERTIES COMPILE_OPTIONS "${inferd_cxx_only_options}")

  file(GLOB INFERD_CUDA_SOURCES CONFIGURE_DEPENDS
    ${CMAKE_CURRENT_SOURCE_DIR}/native/cuda/*.cc
    ${CMAKE_CURRENT_SOURCE_DIR}/native/cuda/*.cu
    ${CMAKE_CURRENT_SOURCE_DIR}/native/cuda/ops/*.cu)
  target_sources(inferd_core PRIVATE ${INFERD_CUDA_SOURCES})
  # inferd_core exists before CUDA is enabled, so it does not pick up the CUDA defaults by itself.
  set_target_properties(inferd_core PROPERTIES CUDA_ARCHITECTURES "${CMAKE_CUDA_ARCHITECTURES}"
    CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON)
  target_compile_definitions(inferd_core PUBLIC INFERD_HAS_CUDA=1)
  target_compile_options(inferd_core PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--expt-relaxed-constexpr -Xcompiler=-fno-math-errno>)
  # Static runtime: no libcudart.so needed where the binaries run. dlopen for cuBLAS and NVML.
  target_link_libraries(inferd_core PUBLIC CUDA::cudart_static ${CMAKE_DL_LIBS})
else()
  message(STATUS "inferd: CUDA backend OFF (INFERD_CUDA=${INFERD_CUDA})")
endif()
