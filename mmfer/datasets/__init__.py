from .affectnet import AFFECTNET_CLASSES, AffectNet
from .base import AnnotationError, FERDataset
from .face_list import FaceList
from .ferplus import FERPLUS_CLASSES, FERPlus
from .rafdb import RAFDB, RAFDB_CLASSES, SynthFER
from .splits import load_split, make_split, save_split, stratified_split
from .transforms import LoadFaceImage
from .unlabeled import PathTable, UnlabeledFaces, skip_none_collate

__all__ = [
    'AffectNet', 'AFFECTNET_CLASSES', 'AnnotationError', 'FaceList', 'FERDataset', 'FERPlus', 'FERPLUS_CLASSES',
    'RAFDB', 'RAFDB_CLASSES', 'SynthFER', 'load_split', 'make_split', 'save_split', 'stratified_split',
    'LoadFaceImage', 'PathTable', 'UnlabeledFaces', 'skip_none_collate'
]
