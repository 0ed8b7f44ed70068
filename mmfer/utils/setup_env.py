import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import mmfer's (and mmpretrain's) modules so their parts are registered.

    Args:
        init_default_scope: also make ``'mmfer'`` the default scope, so plain type
            names resolve to mmfer first and then to mmpretrain and mmengine.
    """
    import mmpretrain.utils
    mmpretrain.utils.register_all_modules(init_default_scope=False)
    import mmfer.datasets  # noqa: F401
    import mmfer.engine  # noqa: F401
    import mmfer.models  # noqa: F401
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('mmfer', scope_name='mmfer')
    elif current.scope_name != 'mmfer':
        warnings.warn(f'default scope {current.scope_name!r} is replaced by "mmfer"')
        DefaultScope.get_instance(f'mmfer-{id(current)}', scope_name='mmfer')
