"""The decoder contract: the encoder's pyramid, the class count and the pyramid level to decode from.

Every decoder is called the same way, as smp's decoders take the encoder's feature list::

    logits = decoder(pyramid, n_classes, *, level=..., decoder_activation=..., prefix=..., **options)

``pyramid`` is the encoder's ``[f1, f2, ...]`` and ``level`` the index of the deepest map the decoder uses
(SegNet's ``encoder_level``: 3 is f4); a decoder that fuses skips takes them from the levels below it. The
zoo builds every model through this one call (:mod:`mobseg.zoo.family`).

``level`` is keyword-only so that each public decoder keeps its original positional form
(``segnet_decoder(features, n_classes, n_up, ...)``): the decoders that decode one map (SegNet, PSPNet) still
accept that map on its own in place of the pyramid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import keras

from mobseg.activations import ActivationSpec, LayerMaker, resolve_activation


class Decoder(Protocol):
    """What the zoo calls: ``decoder(pyramid, n_classes, *, level, decoder_activation, **options)``.

    Example:
        >>> from mobseg.decoders import segnet_decoder
        >>> decoder: Decoder = segnet_decoder
    """

    def __call__(
        self,
        pyramid: Sequence[keras.KerasTensor],
        n_classes: int,
        *,
        level: int,
        decoder_activation: ActivationSpec | None,
        **options: object,
    ) -> keras.KerasTensor: ...


def pyramid_levels(
    pyramid: Sequence[keras.KerasTensor], level: int, count: int | None, decoder: str
) -> list[keras.KerasTensor]:
    """The ``count`` maps up to ``pyramid[level]`` a decoder uses (``None``: all from f1), or a ``ValueError``.

    Example:
        >>> maps = [keras.Input((8 // s, 8 // s, 1)) for s in (1, 2, 4)]
        >>> len(pyramid_levels(maps, 2, 2, "fcn8_decoder")), len(pyramid_levels(maps, 1, None, "unet_decoder"))
        (2, 2)
    """
    least = 0 if count is None else count - 1
    if isinstance(level, bool) or not isinstance(level, int) or level < least:
        raise ValueError(f"{decoder}: level must be a pyramid index >= {least}; got {level!r}.")
    first = 0 if count is None else level - count + 1
    if level >= len(pyramid):
        wanted = ", ".join(f"f{i + 1}" for i in range(first, level + 1))
        raise ValueError(f"{decoder} needs the pyramid levels [{wanted}]; got {len(pyramid)} levels.")
    return list(pyramid[first : level + 1])


def level_map(features: keras.KerasTensor | Sequence[keras.KerasTensor], level: int, decoder: str) -> keras.KerasTensor:
    """The one map a single-level decoder decodes: ``features[level]`` of a pyramid, or ``features`` itself.

    Example:
        >>> x = keras.Input((4, 4, 8))
        >>> level_map(x, 3, "segnet_decoder") is x, level_map([x, x], 1, "segnet_decoder") is x
        (True, True)
    """
    if isinstance(features, (list, tuple)):
        return pyramid_levels(features, level, 1, decoder)[0]
    return features


def optional_activation(spec: ActivationSpec | None, argument: str = "decoder_activation") -> LayerMaker | None:
    """The activation-layer maker for ``spec``, or ``None`` when ``spec`` is ``None`` (no activation).

    Example:
        >>> optional_activation(None) is None, optional_activation("relu")("act").name
        (True, 'act')
    """
    return None if spec is None else resolve_activation(spec, argument=argument)


__all__ = ["Decoder", "level_map", "optional_activation", "pyramid_levels"]
