#!/usr/bin/env bash
# Installs llama-cpp-python (the local generator's engine) into the project's venv.
#
# A default build tunes for the build machine's CPU; on CPUs with Intel AMX that build
# segfaults on the first matrix multiply. So Kefu builds it for portable AVX2 instead,
# once, and keeps the wheel in var/wheels/ (the wheel is py3-none: one build serves all).
set -euo pipefail
cd "$(dirname "$0")/.."
# The pinned version: requirements.txt, else requirements.in.
VERSION="${LLAMA_CPP_VERSION:-$(cat requirements.txt requirements.in 2>/dev/null | grep -i -m1 '^llama[-_]cpp[-_]python==' | cut -d= -f3 || true)}"
if [ -z "$VERSION" ]; then
  echo "llama-cpp-python is not pinned in requirements.txt or requirements.in" >&2
  exit 1
fi
PY=.venv/bin/python
if $PY -c "import importlib.metadata as m, sys; sys.exit(m.version('llama_cpp_python') != '$VERSION')" 2>/dev/null; then
  exit 0
fi
mkdir -p var/wheels
wheel=$(ls var/wheels/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
  echo "Building llama-cpp-python $VERSION for portable CPUs (about 3 minutes on 2 cores)"
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DGGML_BLAS=OFF \
-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    $PY -m pip wheel --disable-pip-version-check -q --no-deps --no-cache-dir -w var/wheels "llama-cpp-python==$VERSION"
  wheel=$(ls var/wheels/llama_cpp_python-"$VERSION"-*.whl | head -1)
fi
$PY -m pip install --disable-pip-version-check -q --no-deps "$wheel"
