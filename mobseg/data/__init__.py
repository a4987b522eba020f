"""Datasets of images and masks: pairing, mask formats, verification, class weights, the input pipelines.

``make_dataset`` / ``model_dataset`` build ``tf.data`` where TensorFlow is installed and a
``keras.utils.PyDataset`` where it is not (:mod:`mobseg.data.pipeline`); nothing here imports TensorFlow.
"""

from mobseg.data.augment import Augmentation
from mobseg.data.class_weights import class_statistics, median_frequency_weights, resolve_class_weights
from mobseg.data.images import read_image_uint8
from mobseg.data.loader import SegmentationBatches
from mobseg.data.masks import MASK_EXTENSIONS, MASK_FORMATS, decode_mask, parse_colors, read_mask
from mobseg.data.pairs import Pair, list_pairs, match_folders
from mobseg.data.pipeline import LOADERS, default_loader, make_dataset, model_dataset
from mobseg.data.transform import ExampleTransform
from mobseg.data.verify import DatasetReport, Problem, verify_dataset

__all__ = [
    "LOADERS",
    "MASK_EXTENSIONS",
    "MASK_FORMATS",
    "Augmentation",
    "DatasetReport",
    "ExampleTransform",
    "Pair",
    "Problem",
    "SegmentationBatches",
    "class_statistics",
    "decode_mask",
    "default_loader",
    "list_pairs",
    "make_dataset",
    "match_folders",
    "median_frequency_weights",
    "model_dataset",
    "parse_colors",
    "read_image_uint8",
    "read_mask",
    "resolve_class_weights",
    "verify_dataset",
]
