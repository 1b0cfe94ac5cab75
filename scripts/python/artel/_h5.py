"""HDF5 groups of an artel result file as xarray objects, read with h5py.

Two ways of reading a group's variables:

* eagerly (read_group, read_values): every dataset read at once into memory.
  Dimension names come from the group's dimension scales (the netCDF-4
  convention the engine writes, docs/output-format.md), values and attributes
  as h5py gives them; about ten times faster than xarray's h5netcdf engine
  because nothing else is interpreted.
* lazily (lazy_stack): a variable of every arm stacked along a leading `arm`
  axis, read from the file only when it is indexed or loaded
  (xarray's LazilyIndexedArray over a BackendArray, as xarray's own backends
  do; no dask needed). The file is opened for each read and closed after it,
  so no handle stays open.

CF decoding is the part xarray would do for these files: a `missing_value`
attribute masks its value as NaN (docs/output-format.md: an event that never
happens) and moves to the variable's encoding.
"""
from __future__ import annotations

import posixpath

import h5py
import numpy as np
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

HIDDEN_ATTRS = {"DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME", "_Netcdf4Dimid", "_Netcdf4Coordinates",
                "_nc3_strict"}
CF_MASK_ATTRS = ("missing_value", "_FillValue")


def py(value):
    """An HDF5 attribute value as a plain Python value (str, int, float, list)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SO":
            return [py(v) for v in value.tolist()]
        return value.item() if value.ndim == 0 else value
    if isinstance(value, np.generic):
        return value.item()
    return value


def attrs_of(obj) -> dict:
    return {k: py(v) for k, v in obj.attrs.items() if k not in HIDDEN_ATTRS}


def values_of(ds: h5py.Dataset):
    v = ds[()]
    if isinstance(v, np.ndarray) and v.dtype.kind in "SO":
        return np.array([x.decode("utf-8") if isinstance(x, bytes) else x for x in v.ravel()],
                        dtype=object).reshape(v.shape)
    return v


def _attached_scales(ds: h5py.Dataset) -> list:
    return [posixpath.basename(d.values()[0].name) if len(d) else None for d in ds.dims]


def _is_scale(o: h5py.Dataset) -> bool:
    return py(o.attrs.get("CLASS", b"")) == "DIMENSION_SCALE" and o.ndim == 1


class Layout:
    """What a group holds: its dimension scales (coordinates) and, per data variable, its dimensions,
    shape, dtype and attributes. Read once per group; the groups of the arms share one layout."""

    def __init__(self, g: h5py.Group):
        datasets = [(n, o) for n, o in g.items() if isinstance(o, h5py.Dataset)]
        scales = {n: o for n, o in datasets if _is_scale(o)}
        by_len: dict[int, list[str]] = {}
        for n, o in scales.items():
            by_len.setdefault(o.shape[0], []).append(n)
        self.coords = {n: xr.Variable((n,), values_of(o), attrs_of(o)) for n, o in scales.items()}
        self.attrs = attrs_of(g)
        self.vars: dict[str, tuple] = {}  # name: (dims, shape, dtype, attrs)
        for n, o in datasets:
            if n in scales:
                continue
            # A dimension is named after the only scale of that length in the group when there is one
            # (fast); otherwise after the scale attached to that axis.
            dims, attached = [], None
            for axis, size in enumerate(o.shape):
                cand = by_len.get(size, [])
                if len(cand) == 1:
                    dims.append(cand[0])
                    continue
                if attached is None:
                    attached = _attached_scales(o)
                dims.append(attached[axis] or f"{n}_dim{axis}")
            self.vars[n] = (tuple(dims), o.shape, o.dtype, attrs_of(o))


def decode(data, attrs: dict, extra_missing=None):
    """CF masking: values equal to missing_value / _FillValue (or to extra_missing) become NaN.
    Returns (data, attrs without those attributes, encoding with them)."""
    attrs, encoding = dict(attrs), {}
    masks = [attrs.pop(k) for k in CF_MASK_ATTRS if k in attrs]
    if extra_missing is not None:
        masks.append(extra_missing)
    if masks:
        encoding["missing_value"] = masks[0]
        data = np.array(data, dtype=float)
        for m in masks:
            data[np.isin(data, np.atleast_1d(m))] = np.nan
    return data, attrs, encoding


def read_group(g: h5py.Group, layout: Layout | None = None, *, missing=None) -> xr.Dataset:
    """One HDF5 group as an in-memory xarray.Dataset; dimension scales become coordinates.
    missing: {variable: value} masked as NaN besides the file's own missing_value attributes."""
    layout = layout or Layout(g)
    data_vars = {}
    for n, (dims, _shape, _dtype, attrs) in layout.vars.items():
        data, attrs, enc = decode(values_of(g[n]), attrs, (missing or {}).get(n))
        v = xr.Variable(dims, data, attrs)
        v.encoding.update(enc)
        data_vars[n] = v
    return xr.Dataset(data_vars, dict(layout.coords), attrs=dict(layout.attrs))


class ArmStack(BackendArray):
    """One variable of several arms, (arm, *shape), read from the file only when indexed."""

    def __init__(self, path, names: list[str], shape: tuple, dtype):
        self.path, self.names = str(path), list(names)
        self.shape = (len(self.names), *shape)
        self.dtype = np.dtype(dtype)

    def __getitem__(self, key):
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC, self._read)

    def _read(self, key: tuple):
        a, rest = key[0], tuple(key[1:])
        names = self.names[a] if isinstance(a, slice) else [self.names[a]]
        if not names:
            return np.empty((0, *np.broadcast_to(np.empty((), self.dtype), self.shape[1:])[rest].shape), self.dtype)
        with h5py.File(self.path, "r") as f:
            parts = [np.asarray(f[n][rest] if rest else f[n][()]) for n in names]
        out = np.stack(parts)
        return out if isinstance(a, slice) else out[0]


def lazy_stack(path, names: list[str], dims: tuple, shape: tuple, dtype, attrs: dict) -> xr.Variable:
    """A lazily read Variable (arm, *dims) of the datasets `names` (one per arm, same shape)."""
    return xr.Variable(("arm", *dims), indexing.LazilyIndexedArray(ArmStack(path, names, shape, dtype)), attrs)
