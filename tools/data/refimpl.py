"""Reference-side helpers shared by the @g2d-ts/data golden generators and the dicom-decode
benchmark baseline: pydicom (+ pylibjpeg codecs) decoding, the grey mapping of
`g2d-data convert`, and the reference G2D preprocessing (ext_data.py) verbatim."""
import warnings

import numpy as np
import pydicom
import skimage.transform
from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut, convert_color_space

warnings.simplefilter("ignore")


def read_dataset(path):
    ds = pydicom.dcmread(path, force=True)
    if "TransferSyntaxUID" not in ds.file_meta:
        # ACR-NEMA style file without meta: pydicom's force=True reads it as implicit VR LE
        ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    return ds


def stored_values(ds):
    """pixel_array, with BitsStored masking / sign extension (PS3.5 8.1.1) and YBR JPEG -> RGB."""
    arr = ds.pixel_array
    bs, ba = int(ds.BitsStored), int(ds.BitsAllocated)
    if bs < ba:
        a = arr.astype(np.int64)
        if int(ds.PixelRepresentation) == 1:
            a = a & ((1 << bs) - 1)
            a = np.where(a >= (1 << (bs - 1)), a - (1 << bs), a)
        else:
            a = a & ((1 << bs) - 1)
        arr = a.astype(arr.dtype)
    note = None
    ts = str(ds.file_meta.TransferSyntaxUID)
    if int(ds.SamplesPerPixel) == 3 and ds.PhotometricInterpretation.startswith("YBR") and ts in (
        "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"):
        arr = convert_color_space(arr, "YBR_FULL", "RGB")
        note = "YBR JPEG: pydicom convert_color_space YBR_FULL->RGB (libjpeg does it inside the codec)"
    return arr, note


def _has_window(ds):
    return ds.get("WindowCenter") is not None and ds.get("WindowWidth") is not None


def _has_voi_lut(ds):
    s = ds.get("VOILUTSequence")
    return bool(s) and s[0].get("LUTDescriptor") is not None and s[0].get("LUTData") is not None


def grey_u(ds, arr, voi=True, pi=None):
    """The grey image in [0, 1] that `g2d-data convert` writes (before quantisation)."""
    pi = pi or ds.PhotometricInterpretation
    bs = int(ds.BitsStored)
    signed = int(ds.PixelRepresentation) == 1
    smin, smax = (-(2 ** (bs - 1)), 2 ** (bs - 1) - 1) if signed else (0, 2 ** bs - 1)
    if pi in ("MONOCHROME1", "MONOCHROME2"):
        g = apply_modality_lut(arr, ds)
        if ds.get("ModalityLUTSequence"):
            lo, hi = 0, 2 ** int(ds.ModalityLUTSequence[0].LUTDescriptor[2]) - 1
        elif "RescaleSlope" in ds and "RescaleIntercept" in ds:
            a = smin * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
            z = smax * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
            lo, hi = min(a, z), max(a, z)
        else:
            lo, hi = smin, smax
        if voi and (_has_voi_lut(ds) or _has_window(ds)):
            if _has_voi_lut(ds):
                lo, hi = 0, 2 ** int(ds.VOILUTSequence[0].LUTDescriptor[2]) - 1
            else:
                if ds.get("ModalityLUTSequence"):
                    y0, y1 = 0, 2 ** int(ds.ModalityLUTSequence[0].LUTDescriptor[2]) - 1
                else:
                    y0, y1 = smin, smax
                if ds.get("RescaleSlope") is not None and ds.get("RescaleIntercept") is not None:
                    y0 = y0 * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
                    y1 = y1 * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
                lo, hi = min(y0, y1), max(y0, y1)
            g = apply_voi_lut(g, ds, 0, prefer_lut=True)
        g = np.asarray(g, dtype=np.float64)
    elif pi == "RGB" and arr.ndim == 3:
        a = arr.astype(np.int64)
        if bs <= 8:
            g = ((a[..., 0] * 19595 + a[..., 1] * 38470 + a[..., 2] * 7471 + 0x8000) >> 16).astype(np.float64)
        else:
            g = (a[..., 0] * 299 + a[..., 1] * 587 + a[..., 2] * 114) / 1000
        lo, hi = 0, smax
    elif pi == "YBR_FULL" and arr.ndim == 3:
        g = arr[..., 0].astype(np.float64)
        lo, hi = 0, smax
    else:
        raise ValueError(f"no grey mapping for {pi}")
    span = hi - lo
    u = (g - lo) / span if span > 0 else np.zeros_like(g)
    u = np.clip(u, 0.0, 1.0)
    if pi == "MONOCHROME1":
        u = 1 - u
    return u


def convert_png_values(ds, arr, voi=True, pi=None):
    """uint16 values of the `g2d-data convert` PNG: floor(u * (2^BitsStored - 1) + 0.5)."""
    u = grey_u(ds, arr, voi, pi)
    return np.floor(u * (2 ** int(ds.BitsStored) - 1) + 0.5).astype(np.uint16)


def reference_preprocess(img, resize):
    """ext_data.py of cheliu-computation/G2D-NeurIPS24, lines for one image, verbatim."""
    x, y = np.nonzero(img)
    xl, xr = x.min(), x.max()
    yl, yr = y.min(), y.max()
    img = img[xl:xr + 1, yl:yr + 1]
    img = ((img - img.min()) * (1 / (img.max() - img.min()) * 256))
    img = skimage.transform.resize(img, (resize, resize), order=1, preserve_range=True, anti_aliasing=False)
    img = img.astype(np.uint8)
    return img
