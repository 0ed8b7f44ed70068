# Face statistics from method A's MAE pre-training (RGB, 0-255 scale).
face_mean = [149.94, 117.05, 102.51]
face_std = [58.14, 51.51, 48.45]

# top-1 accuracy and mean class accuracy (macro recall over classes); tests add the confusion matrix
val_evaluator = [
    dict(type='mmpretrain.Accuracy', topk=(1, )),
    dict(type='mmpretrain.SingleLabelMetric', items=('recall', ), average='macro', prefix='mean_class'),
]
test_evaluator = [
    dict(type='mmpretrain.Accuracy', topk=(1, )),
    dict(type='mmpretrain.SingleLabelMetric', items=('recall', ), average='macro', prefix='mean_class'),
    dict(type='mmpretrain.ConfusionMatrix'),
]
