"""An audiovisual installation engine after the film *Her*: the space between the words."""

__version__ = "0.1.0"
