"""An INT8 copy of the OCR recognition model, made once per machine from the shipped fp32 one, checked
against fp32 on that machine, and cached with the verdict.

Recognition is most of an OCR pass on a busy screen, and most of recognition is convolutions.
Static INT8 quantization (per-channel weights; activation ranges calibrated on UI text rendered
here with Pillow) runs them on the CPU's integer units. The first convolution stays float: it sees
raw pixels, and quantizing it cost exact readings on the grounding benchmark (369 instead of 374
of 382 targets read exactly; kept float, 374, as with the fp32 model). ``bench/ocr_bench.py``
measures speed and accuracy of both in one run.

Whether INT8 pays depends on the CPU: onnxruntime runs it with integer kernels chosen by
instruction set, and the same INT8 model reads and runs differently on different processors (on
an AMD machine it was faster and read as fp32 reads; on an Intel Xeon with AVX-512 VNNI it read
a field's edge into its label, and 8.5 % of the check's lines differently). So the copy is used
only where it proves itself: :func:`check` reads a set of UI screens
rendered here with both models, and INT8 is used only if it reads at least
:data:`MIN_AGREEMENT` of the lines exactly as fp32 does and runs at least :data:`MIN_SPEEDUP`
times as fast. The verdict is cached next to the model (decided once per machine, for this
processor) and logged.

Build and check during setup, so the first describe never waits for it::

    python -m engine.ocr.int8 --build

Nothing is downloaded: the source is the model inside the rapidocr wheel. Building takes a few
seconds and needs the ``onnx`` package; the result is reused until the source model, onnxruntime or
:data:`RECIPE` changes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

RECIPE = "2"
"""Bump when anything here changes the model it makes (cached copies are then rebuilt)."""

_FONTS = (
    "dejavu/DejaVuSans.ttf",
    "dejavu/DejaVuSansMono.ttf",
    "dejavu/DejaVuSerif.ttf",
    "liberation2/LiberationSans-Regular.ttf",
    "liberation2/LiberationSans-Bold.ttf",
    "liberation2/LiberationMono-Regular.ttf",
)
_WORDS = (
    "File", "Edit", "View", "Help", "Save", "Open", "Close", "Submit", "Cancel", "Apply", "OK", "Settings",
    "Search…", "Name", "Email", "City", "Status", "Password", "Username", "Remember", "me", "Sign", "in",
    "Download", "Upload", "Invoice", "Total", "Q3", "2026-11-29", "09:41", "$1,234.56", "€99.00", "42%",
    "user@example.com", "https://example.org/a?b=1", "(optional)", "Next", "›", "«", "Back", "#7", "INV-0042",
    "Café", "Ñandú",
)  # fmt: skip


def cache_dir(cache_home: str | Path | None = None) -> Path:
    """``<cache_home>/vlm-desktop-mcp/ocr``, ``cache_home`` defaulting to ``~/.cache``.

    The caller's ``$XDG_CACHE_HOME`` is read at its edge (the server's configuration, this module's
    command line) and passed in; nothing here reads the environment.
    """
    return Path(cache_home or Path.home() / ".cache") / "vlm-desktop-mcp" / "ocr"


def int8_path(source: Path, directory: Path | None = None) -> Path:
    """Where the INT8 copy of ``source`` is cached (named by the source's content and onnxruntime's version)."""
    import onnxruntime

    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    name = f"{source.stem}-int8-r{RECIPE}-ort{onnxruntime.__version__}-{digest}.onnx"
    return (directory or cache_dir()) / name


def _fonts() -> list[Any]:
    found: list[Any] = []
    for relative in _FONTS:
        path = Path("/usr/share/fonts/truetype") / relative
        if path.is_file():
            found.append(str(path))
    return found


def calibration_batches(batches: int = 16, per_batch: int = 8, seed: int = 1) -> list[np.ndarray]:
    """Recognition inputs of rendered UI text: light and dark themes, 11-20 px, the fonts installed.

    Cropped the way detection crops (text plus about half its height around it), batched the way
    recognition batches, so the calibrated ranges are the ones seen at run time.
    """
    from engine.ocr.reader import to_bgr
    from engine.ocr.recognition import rec_input

    rng = random.Random(seed)
    fonts = _fonts()
    result = []
    for _ in range(batches):
        crops = []
        for _ in range(per_batch):
            text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))
            size = rng.choice((11, 12, 13, 14, 16, 20))
            font = ImageFont.truetype(rng.choice(fonts), size) if fonts else ImageFont.load_default(size)
            dark = rng.random() < 0.3
            background = (30, 30, 30) if dark else rng.choice(((255, 255, 255), (240, 240, 240), (222, 235, 250)))
            ink = (230, 230, 230) if dark else rng.choice(((20, 20, 20), (60, 60, 60), (0, 70, 160)))
            width = int(font.getlength(text)) + size
            image = Image.new("RGB", (width, size * 2), background)
            ImageDraw.Draw(image).text((size // 2, size // 2), text, fill=ink, font=font)
            crops.append(to_bgr(image))
        crops.sort(key=lambda c: c.shape[1] / c.shape[0])
        result.append(rec_input(crops)[0])
    return result


def quantize(source: Path, target: Path) -> Path:
    """Write the INT8 copy of the recognition model ``source`` to ``target`` (atomically) and return it."""
    try:
        import onnx
        from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as exc:
        raise RuntimeError(f"INT8 OCR needs the onnx package (pip install onnx): {exc}") from exc

    inputs = calibration_batches()

    class Reader(CalibrationDataReader):  # type: ignore[misc]  # untyped base class
        def __init__(self, name: str) -> None:
            self._items = iter([{name: batch} for batch in inputs])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._items, None)

    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_scratch(target.parent)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=_SCRATCH) as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        built = Path(scratch) / "int8.onnx"
        # The quantization tools print progress; in stdio mode stdout is the protocol channel.
        with contextlib.redirect_stdout(sys.stderr):
            quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
            graph = onnx.load(str(prepared)).graph
            first_conv = next(node.name for node in graph.node if node.op_type == "Conv")
            quantize_static(
                str(prepared),
                str(built),
                Reader(graph.input[0].name),
                quant_format=QuantFormat.QOperator,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["Conv"],
                nodes_to_exclude=[first_conv],
            )
            model = onnx.load(str(built))
        # The recogniser's character list travels in the model's metadata: keep it.
        del model.metadata_props[:]
        model.metadata_props.extend(onnx.load(str(source), load_external_data=False).metadata_props)
        onnx.save(model, str(built))
        os.replace(built, target)  # atomic: a process loading it never sees half a file
    return target


_SCRATCH = ".int8-"
_STALE_SECONDS = 15 * 60


def _remove_stale_scratch(directory: Path) -> None:
    # A build killed midway (SIGKILL, power loss) leaves its scratch folder (tens of MB) behind.
    for leftover in directory.glob(f"{_SCRATCH}*"):
        try:
            if time.time() - leftover.stat().st_mtime > _STALE_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)
        except OSError:
            continue


def ensure_int8(source: Path, directory: Path | None = None) -> Path:
    """The cached INT8 copy of ``source``, made first if missing (a few seconds, once)."""
    target = int8_path(source, directory)
    if not target.is_file():
        log.info("building the INT8 OCR recognition model in %s (once per machine)", target.parent)
        quantize(source, target)
    return target


# -- the check on this machine -----------------------------------------------------------------

MIN_AGREEMENT = 0.99
"""Share of the check's text lines INT8 must read exactly as fp32 reads them."""
MIN_SPEEDUP = 1.1
"""How many times fp32's speed INT8 must reach here: on par or slower, it is not worth any doubt."""
CHECK = "1"
"""Bump when the check changes (cached verdicts are then made again)."""


@dataclass(frozen=True)
class Verdict:
    """Whether the INT8 copy is used on this machine, and the evidence it was decided on."""

    use_int8: bool
    agreement: float
    """Share of the check's lines INT8 read exactly as fp32 read them."""
    lines: int
    fp32_s: float
    """Recognition time of the check's lines with fp32 (the best of a few rounds)."""
    int8_s: float
    cpu: str
    """The processor it was decided on (:func:`cpu_identity`)."""
    differing: tuple[tuple[str, str], ...] = ()
    """Some ``(fp32, int8)`` readings that differed, for the log."""
    check: str = CHECK

    @property
    def speedup(self) -> float:
        """INT8's speed as a multiple of fp32's."""
        return self.fp32_s / self.int8_s if self.int8_s > 0 else 0.0

    def summary(self) -> str:
        """One line for logs: what was measured and what was decided."""
        return (
            f"INT8 read {self.agreement:.1%} of {self.lines} lines as fp32 did (needs {MIN_AGREEMENT:.0%}) at "
            f"{self.speedup:.2f}x fp32's speed ({self.int8_s:.2f} s vs {self.fp32_s:.2f} s; needs {MIN_SPEEDUP:.2f}x) "
            f"on {self.cpu.split(' [')[0]}: recognition uses {'INT8' if self.use_int8 else 'fp32'}"
        )


def decide(agreement: float, fp32_s: float, int8_s: float) -> bool:
    """Whether INT8 earns its place on a machine: it reads as fp32 does there, and is measurably faster."""
    return agreement >= MIN_AGREEMENT and int8_s > 0 and fp32_s / int8_s >= MIN_SPEEDUP


def cpu_identity() -> str:
    """This processor: its model name and the vector-instruction flags that pick onnxruntime's kernels."""
    name, flags = platform.processor() or platform.machine(), ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and name == (platform.processor() or platform.machine()):
                name = value.strip()
            elif key.strip() == "flags" and not flags:
                wanted = ("avx", "amx", "fma", "f16c", "sse4", "vnni")
                flags = " ".join(sorted(f for f in value.split() if f.startswith(wanted)))
    return f"{name} [{flags}]" if flags else name


def verdict_path(model: Path) -> Path:
    """Where the verdict on the INT8 ``model`` is cached: beside it."""
    return model.with_name(f"{model.stem}.verdict.json")


def load_verdict(model: Path) -> Verdict | None:
    """The cached verdict on ``model`` for this processor; None when there is none (or it was made on
    another processor, or by an older check)."""
    try:
        data = json.loads(verdict_path(model).read_text(encoding="utf-8"))
        verdict = Verdict(**{**data, "differing": tuple(tuple(pair) for pair in data.get("differing", ()))})
    except (OSError, ValueError, TypeError):
        return None
    if verdict.cpu != cpu_identity() or verdict.check != CHECK:
        return None
    return verdict


def _save(model: Path, verdict: Verdict) -> None:
    target = verdict_path(model)
    scratch = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    scratch.write_text(json.dumps(asdict(verdict), indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(scratch, target)  # atomic: a process reading it never sees half a file


_CHECK_WORDS = (
    "Name:", "Email:", "City", "Phone", "Notes:", "Search…", "Password", "Username", "Address", "Country",
    "Save", "Cancel", "Apply", "OK", "Delete", "Export as CSV", "Sign in", "Next ›", "« Back", "Help",
    "Remember me", "Subscribe to the newsletter", "Dark mode", "Show hidden files", "Auto-save every 5 min",
    "Invoice", "Customer", "Total", "Status", "Paid", "Overdue", "Pending", "INV-0042", "2026-11-29", "09:41",
    "$1,234.56", "€99.00", "42%", "Ada Lovelace", "Grace Hopper", "user@example.com", "report_final.pdf",
    "File", "Edit", "View", "Tools", "Window", "Settings", "Preferences", "Open Recent", "Close Tab",
    "Unsaved changes will be lost", "Showing 1-25 of 340", "Last updated 3 minutes ago", "(optional)",
)  # fmt: skip


def check_screens(seed: int = 2, count: int = 4) -> list[Image.Image]:
    """UI screens rendered here for the check (about 60 lines each): labels beside fields with values
    in them, buttons, checkboxes, a menu bar, a table with grid lines; light and dark themes."""
    rng = random.Random(seed)
    fonts = _fonts()
    screens = []
    for index in range(count):
        dark = index % 2 == 1
        background = (36, 37, 40) if dark else (240, 240, 240)
        ink = (225, 225, 225) if dark else (20, 20, 20)
        field = (55, 56, 60) if dark else (255, 255, 255)
        image = Image.new("RGB", (960, 640), background)
        draw = ImageDraw.Draw(image)
        size = (11, 13, 15, 17)[index % 4]
        font = ImageFont.truetype(fonts[index % len(fonts)], size) if fonts else ImageFont.load_default(size)
        words = list(_CHECK_WORDS)
        rng.shuffle(words)
        x = 12
        for word in ("File", "Edit", "View", "Tools", "Window", "Help"):  # a menu bar
            draw.text((x, 8), word, fill=ink, font=font)
            x += int(font.getlength(word)) + 20
        y = 40
        for row in range(7):  # a form: label, a few pixels, a field holding a value
            label, value = words[row % len(words)], words[(row + 11) % len(words)]
            draw.text((16, y + 5), label, fill=ink, font=font)
            edge = 16 + int(font.getlength(label)) + rng.choice((4, 6, 8, 12, 24))
            draw.rectangle((edge, y, edge + 260, y + size + 10), fill=field, outline=(128, 128, 128))
            draw.text((edge + 5, y + 5), value, fill=ink, font=font)
            y += size + 18
        x = 16
        for caption in rng.sample(words, 4):  # buttons, some coloured
            colour = rng.choice(((0, 120, 215), (225, 225, 225), (46, 160, 67), (196, 43, 28)))
            width = int(font.getlength(caption)) + 24
            draw.rectangle((x, y, x + width, y + size + 12), fill=colour, outline=(90, 90, 90))
            draw.text((x + 12, y + 6), caption, fill=(255, 255, 255) if sum(colour) < 500 else (0, 0, 0), font=font)
            x += width + 14
        y += size + 26
        for row in range(4):  # checkboxes
            draw.rectangle((16, y + 2, 16 + size, y + 2 + size), fill=field, outline=ink)
            draw.text((16 + size + 8, y), words[(row + 20) % len(words)], fill=ink, font=font)
            y += size + 12
        top, pitch = y + 6, size + 10  # a table with grid lines
        for row in range(8):
            for column in range(4):
                text = words[(row * 4 + column + 30) % len(words)]
                draw.text((16 + column * 200 + 6, top + row * pitch + 5), text, fill=ink, font=font)
        for row in range(9):
            draw.line((16, top + row * pitch, 816, top + row * pitch), fill=(128, 128, 128))
        for column in range(5):
            draw.line((16 + column * 200, top, 16 + column * 200, top + 8 * pitch), fill=(128, 128, 128))
        screens.append(image)
    return screens


def check(model: Path, threads: int = 0, rounds: int = 3) -> Verdict:
    """Read :func:`check_screens` with the fp32 model and with the INT8 ``model`` on this machine;
    cache and log the verdict, and return it.

    Both read the same detected boxes, and their readings go through the same line splitting, so
    only recognition differs. Times are the best of ``rounds`` alternating runs (other work on the
    machine only ever slows a run down).
    """
    from engine.ocr.reader import OcrEngine, to_bgr
    from engine.ocr.settings import OcrSettings

    log.info("checking the INT8 OCR model against fp32 on this machine (once; some seconds)")
    fp32 = OcrEngine(OcrSettings(precision="fp32", threads=threads, crop_cache_size=0))
    int8 = OcrEngine(OcrSettings(threads=threads, crop_cache_size=0, verify_int8=False, int8_dir=model.parent))
    try:
        int8.load()
        if int8.precision != "int8":
            raise RuntimeError(int8.int8_error or f"the INT8 model {model} did not load")
        screens = [to_bgr(image) for image in check_screens()]
        boxes = [[box for box, _ in fp32.detect(screen)] for screen in screens]
        crops = [
            [screen[y1:y2, x1:x2] for x1, y1, x2, y2 in found] for screen, found in zip(screens, boxes, strict=True)
        ]
        seconds: dict[str, list[float]] = {"fp32": [], "int8": []}
        readings: dict[str, list[Any]] = {}
        for _ in range(rounds):
            for name, engine in (("fp32", fp32), ("int8", int8)):
                started = time.perf_counter()
                readings[name] = [engine.recognize(group) for group in crops]
                seconds[name].append(time.perf_counter() - started)
        same = total = 0
        differing: list[tuple[str, str]] = []
        for screen, found, ours, theirs in zip(screens, boxes, readings["fp32"], readings["int8"], strict=True):
            reference = Counter(line.text for line in fp32.lines(screen, found, ours))
            candidate = Counter(line.text for line in fp32.lines(screen, found, theirs))
            same += sum((reference & candidate).values())
            total += max(sum(reference.values()), sum(candidate.values()))
            differing += [(a.text, b.text) for a, b in zip(ours, theirs, strict=True) if a.text != b.text]
    finally:
        fp32.close()
        int8.close()
    agreement = same / total if total else 0.0
    fp32_s, int8_s = min(seconds["fp32"]), min(seconds["int8"])
    verdict = Verdict(
        use_int8=decide(agreement, fp32_s, int8_s),
        agreement=round(agreement, 4),
        lines=total,
        fp32_s=round(fp32_s, 3),
        int8_s=round(int8_s, 3),
        cpu=cpu_identity(),
        differing=tuple(differing[:10]),
    )
    _save(model, verdict)
    log.info("OCR INT8 check: %s (cached in %s)", verdict.summary(), verdict_path(model))
    if differing:
        log.info(
            "OCR INT8 check: readings that differed (fp32 -> INT8): %s",
            "; ".join(f"{a!r} -> {b!r}" for a, b in differing[:10]),
        )
    return verdict


def ensure_checked(
    source: Path, directory: Path | None = None, threads: int = 0, *, recheck: bool = False
) -> tuple[Path, Verdict]:
    """The cached INT8 copy of ``source`` and its verdict on this machine, each made first if missing."""
    model = ensure_int8(source, directory)
    verdict = None if recheck else load_verdict(model)
    if verdict is None:
        verdict = check(model, threads)
    return model, verdict


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """``python -m engine.ocr.int8 --build``: build the INT8 copy and check it on this machine.

    Without ``--dir`` the copy goes where the server looks by default: :func:`cache_dir` of
    ``env["XDG_CACHE_HOME"]`` (the process environment when run as a command).

    Prints the verdict (``--json``: as JSON); exit status 0 when a verdict was reached (INT8 or
    fp32), 1 when the copy could not be built or checked (the server then serves on fp32).
    """
    parser = argparse.ArgumentParser(
        prog="python -m engine.ocr.int8",
        description="Build the INT8 OCR recognition model and check it against fp32 on this machine (cached).",
    )
    parser.add_argument(
        "--build", action="store_true", required=True, help="build (if missing) and check (if unchecked)"
    )
    parser.add_argument("--dir", type=Path, help="cache folder (default: $XDG_CACHE_HOME/vlm-desktop-mcp/ocr)")
    parser.add_argument("--recheck", action="store_true", help="check again even if a verdict is cached")
    parser.add_argument("--rebuild", action="store_true", help="build the model again (and check it)")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    from engine.ocr.models import OcrUnavailable, shipped_model

    directory = args.dir or cache_dir((env or {}).get("XDG_CACHE_HOME"))
    try:
        source = shipped_model("rec")
        if args.rebuild:
            int8_path(source, directory).unlink(missing_ok=True)
        model, verdict = ensure_checked(source, directory, recheck=args.recheck or args.rebuild)
    except (OcrUnavailable, RuntimeError, OSError) as exc:
        print(f"INT8 OCR model not built: {exc}; the server will recognise with fp32", file=sys.stderr)
        return 1
    print(json.dumps({"model": str(model), **asdict(verdict)}, ensure_ascii=False) if args.json else verdict.summary())
    return 0


if __name__ == "__main__":
    # Run as a script, this file is __main__; the engine imports it as engine.ocr.int8: use that one.
    from engine.ocr.int8 import main as _main

    sys.exit(_main(env=os.environ))  # this command's edge: the one place it reads the environment
