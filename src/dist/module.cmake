# Beyond one machine (issue 28): the world of ranks from the environment
# (torchrun variables, mpirun's, or `--nproc` local workers) and a c10d Gloo
# process group with the collectives training needs.
smoes_module(dist DEPS smoes_core)
