"""mmfer's registries: children of mmpretrain's (and so of mmengine's; FUNCTIONS of mmengine's).

With ``default_scope='mmfer'`` a config names mmfer parts plainly
(``type='SynthFER'``) and reaches the parents' parts by scope prefix
(``type='mmpretrain.VisionTransformer'``, ``type='mmdet.MultiBranch'``).
``locations`` names the modules that fill a registry, imported lazily on first use.
"""
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import Registry
from mmpretrain.registry import BATCH_AUGMENTS as MMPRETRAIN_BATCH_AUGMENTS
from mmpretrain.registry import DATA_SAMPLERS as MMPRETRAIN_DATA_SAMPLERS
from mmpretrain.registry import DATASETS as MMPRETRAIN_DATASETS
from mmpretrain.registry import EVALUATORS as MMPRETRAIN_EVALUATORS
from mmpretrain.registry import HOOKS as MMPRETRAIN_HOOKS
from mmpretrain.registry import LOG_PROCESSORS as MMPRETRAIN_LOG_PROCESSORS
from mmpretrain.registry import LOOPS as MMPRETRAIN_LOOPS
from mmpretrain.registry import METRICS as MMPRETRAIN_METRICS
from mmpretrain.registry import MODEL_WRAPPERS as MMPRETRAIN_MODEL_WRAPPERS
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmpretrain.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMPRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS
from mmpretrain.registry import OPTIM_WRAPPERS as MMPRETRAIN_OPTIM_WRAPPERS
from mmpretrain.registry import OPTIMIZERS as MMPRETRAIN_OPTIMIZERS
from mmpretrain.registry import PARAM_SCHEDULERS as MMPRETRAIN_PARAM_SCHEDULERS
from mmpretrain.registry import RUNNERS as MMPRETRAIN_RUNNERS
from mmpretrain.registry import TASK_UTILS as MMPRETRAIN_TASK_UTILS
from mmpretrain.registry import TRANSFORMS as MMPRETRAIN_TRANSFORMS
from mmpretrain.registry import VISBACKENDS as MMPRETRAIN_VISBACKENDS
from mmpretrain.registry import VISUALIZERS as MMPRETRAIN_VISUALIZERS
from mmpretrain.registry import WEIGHT_INITIALIZERS as MMPRETRAIN_WEIGHT_INITIALIZERS

__all__ = [
    'RUNNERS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS',
    'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'BATCH_AUGMENTS', 'TASK_UTILS', 'METRICS',
    'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS', 'FUNCTIONS'
]

# Lookups of plain names fall through to the parents, which do not import their own
# modules then; so each child imports its parent's modules first, then mmfer's.
_ENGINE = ['mmpretrain.engine', 'mmfer.engine']
_DATA = ['mmpretrain.datasets', 'mmfer.datasets']
_MODELS = ['mmpretrain.models', 'mmfer.models']
_EVAL = ['mmpretrain.evaluation']
_VIS = ['mmpretrain.visualization']

RUNNERS = Registry('runner', parent=MMPRETRAIN_RUNNERS, locations=_ENGINE)
LOOPS = Registry('loop', parent=MMPRETRAIN_LOOPS, locations=_ENGINE)
HOOKS = Registry('hook', parent=MMPRETRAIN_HOOKS, locations=_ENGINE)
LOG_PROCESSORS = Registry('log processor', parent=MMPRETRAIN_LOG_PROCESSORS, locations=_ENGINE)
OPTIMIZERS = Registry('optimizer', parent=MMPRETRAIN_OPTIMIZERS, locations=_ENGINE)
OPTIM_WRAPPERS = Registry('optim wrapper', parent=MMPRETRAIN_OPTIM_WRAPPERS, locations=_ENGINE)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMPRETRAIN_OPTIM_WRAPPER_CONSTRUCTORS, locations=_ENGINE)
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMPRETRAIN_PARAM_SCHEDULERS, locations=_ENGINE)

DATASETS = Registry('dataset', parent=MMPRETRAIN_DATASETS, locations=_DATA)
DATA_SAMPLERS = Registry('data sampler', parent=MMPRETRAIN_DATA_SAMPLERS, locations=_DATA)
TRANSFORMS = Registry('transform', parent=MMPRETRAIN_TRANSFORMS, locations=_DATA)
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, locations=['mmfer.datasets'])

MODELS = Registry('model', parent=MMPRETRAIN_MODELS, locations=_MODELS)
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMPRETRAIN_MODEL_WRAPPERS, locations=_MODELS)
WEIGHT_INITIALIZERS = Registry('weight initializer', parent=MMPRETRAIN_WEIGHT_INITIALIZERS, locations=_MODELS)
# batch-level augments run inside a classifier, as mmpretrain's Mixup / CutMix (``FacialMixup``)
BATCH_AUGMENTS = Registry('batch augment', parent=MMPRETRAIN_BATCH_AUGMENTS, locations=_MODELS)
# method B's dataset distillers and the face detectors (``CascadeFaceDetector``, ``MMDetFaceDetector``)
TASK_UTILS = Registry('task util', parent=MMPRETRAIN_TASK_UTILS, locations=_MODELS)

METRICS = Registry('metric', parent=MMPRETRAIN_METRICS, locations=_EVAL)
EVALUATORS = Registry('evaluator', parent=MMPRETRAIN_EVALUATORS, locations=_EVAL)

VISUALIZERS = Registry('visualizer', parent=MMPRETRAIN_VISUALIZERS, locations=_VIS)
VISBACKENDS = Registry('vis_backend', parent=MMPRETRAIN_VISBACKENDS, locations=_VIS)
