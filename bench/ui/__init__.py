"""The parts of the grounding-set generator (``bench/generate_ui.py`` runs them under Xvfb).

- :mod:`.vocabulary`: the words, themes and fonts the desktops show.
- :mod:`.scene`: the widget kit: a screen being built, the texts it shows and its click targets.
- :mod:`.icons`: icons drawn on a canvas (icon targets have no text).
- :mod:`.boxes`: screen boxes read from Tk once laid out (widgets, tree cells, list rows, text lines).
- :mod:`.layouts`: the six window kinds; :mod:`.context_layouts`: windows that repeat a target.
- :mod:`.desktop`: the top panel and the windows' arrangement.
- :mod:`.collect`: which targets a screen reports.
"""
