"""The vision-language model: the backends that run it, the prompts it is asked, how its answers are read."""
