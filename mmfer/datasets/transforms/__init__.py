from .loading import LoadFaceImage, decode_image

__all__ = ['LoadFaceImage', 'decode_image']
