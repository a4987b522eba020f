"""Training: the ``train`` API, resume-aware callbacks, encoder freezing, the run folder, evaluation."""

from mobseg.training.callbacks import Checkpoints, HistoryLog
from mobseg.training.distribute import DISTRIBUTE_MODES, Distribution
from mobseg.training.evaluation import dataset_confusion_matrix, evaluate_dataset
from mobseg.training.freezing import encoder_layer_names, set_encoder_trainable
from mobseg.training.run_folder import RunFolder, plot_history, read_history_csv
from mobseg.training.train import TrainingRun, train

__all__ = [
    "DISTRIBUTE_MODES",
    "Checkpoints",
    "Distribution",
    "HistoryLog",
    "RunFolder",
    "TrainingRun",
    "dataset_confusion_matrix",
    "encoder_layer_names",
    "evaluate_dataset",
    "plot_history",
    "read_history_csv",
    "set_encoder_trainable",
    "train",
]
