"""The accessibility tree (AT-SPI on Linux): what applications say about their own widgets.

Why ``dbus-fast`` (PyPI) and not PyGObject with the ``Atspi`` typelib:

* it is asynchronous on the server's own event loop: a slow or frozen application costs one
  awaited call with a timeout, never a blocked worker thread. libatspi's calls block, and their
  only bound is a process-wide timeout;
* it installs as a wheel from PyPI (a Cython-compiled marshaller, no C build here); PyGObject
  builds against GLib and gobject-introspection headers, and needs the ``gir1.2-atspi-2.0`` typelib
  from the system beside it, which a virtual environment of another Python does not see;
* AT-SPI is a small, stable set of D-Bus interfaces (``org.a11y.atspi.Accessible``, ``Component``,
  ``Text``, ``Value``): calling them directly needs no binding generator, and the same code reads
  GTK, Qt, Chromium and Firefox alike.

:mod:`.atspi` finds the accessibility bus and calls the interfaces; :mod:`.tree` reads the visible
windows' trees within node and time caps and says, per window, whether what it read is complete.
"""
