#!/bin/sh
# slim_venv.sh VENV: cut a serving venv down to what runs (the runtime image's venv).
# Removes what is never imported when serving: installers, test suites, C/C++ headers and
# sources, pyarrow's Arrow Flight and its build-time copies of libarrow_python;
# strips debug symbols from shared libraries. tools/image_test.sh checks every route after it.
set -eu
V=$1
SP=$(echo "$V"/lib/python3.*/site-packages)
# installers: the runtime never installs anything
rm -rf "$V"/bin/pip* "$SP"/pip "$SP"/pip-* "$SP"/setuptools "$SP"/setuptools-* \
       "$SP"/pkg_resources "$SP"/_distutils_hack "$SP"/distutils-precedence.pth
# test suites of the big packages (nothing imports them at run time)
for d in pandas/tests numpy/_core/tests numpy/typing/tests numpy/tests \
         numba/tests numba/cuda/tests llvmlite/tests pyarrow/tests sklearn/datasets/tests; do
  rm -rf "$SP/$d"
done
find "$SP"/scipy "$SP"/sklearn "$SP"/numpy "$SP"/pandas "$SP"/shap "$SP"/lightgbm \
     -depth -type d -name tests -exec rm -rf {} + 2>/dev/null || true
# headers and Cython/C sources
rm -rf "$SP"/pyarrow/include "$SP"/pyarrow/src "$SP"/numpy/_core/include "$SP"/numpy/_core/lib/libnpymath.a
find "$SP" \( -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.h' -o -name '*.hpp' \
     -o -name '*.cpp' -o -name '*.c' \) -type f -delete
# pyarrow: Arrow Flight (RPC) is never used (no other library links it; libarrow_substrait is
# linked by pyarrow.lib, so it stays); libarrow_python.so and .so.N.M.P are build-time copies
# of libarrow_python.so.N, the name the extension modules load
rm -f "$SP"/pyarrow/libarrow_flight.so* "$SP"/pyarrow/_flight*.so "$SP"/pyarrow/flight.py \
      "$SP"/pyarrow/_pyarrow_cpp_tests*.so
for f in "$SP"/pyarrow/libarrow_python.so "$SP"/pyarrow/libarrow_python.so.*.*.* \
         "$SP"/pyarrow/libarrow_python_flight.so* "$SP"/pyarrow/libarrow_python_parquet_encryption.so.*.*.* \
         "$SP"/pyarrow/libarrow.so "$SP"/pyarrow/libparquet.so "$SP"/pyarrow/libarrow_*.so; do
  if [ -f "$f" ] && [ ! -L "$f" ]; then rm -f "$f"; fi
done
# debug symbols: wheels ship most libraries unstripped (pyarrow ~15 MB, xgboost, numpy...).
# Not the libraries auditwheel grafted into <pkg>.libs/: patchelf rewrote their headers and
# strip then breaks them ("ELF load command address/offset not page-aligned").
# Trap: strip rewrites a hard-linked file in place; `uv pip install` hard-links files from
# its cache by default, so a venv to strip must be installed with UV_LINK_MODE=copy, or the
# cache and every other venv linked to it are stripped too.
find "$SP" -type f \( -name '*.so' -o -name '*.so.*' \) ! -path '*.libs/*' -links 1 \
  -exec strip --strip-unneeded {} +
find "$V" -depth -type d -name __pycache__ -exec rm -rf {} +
