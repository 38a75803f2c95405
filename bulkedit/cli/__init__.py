"""The command line: arguments to options (main, commands), and what a person sees in a
terminal (console). The only layer that imports tqdm or prints.
"""
