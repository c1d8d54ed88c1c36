# End-to-end checks of the smoes executable: exit codes and what it prints.
# (PASS_REGULAR_EXPRESSION replaces the exit-code check, so failures that must
# exit non-zero also assert their message.)
set(SMOES_FIXTURES ${PROJECT_SOURCE_DIR}/tests/fixtures/data)

add_test(NAME cli.help_lists_commands COMMAND smoes_cli --help)
set_tests_properties(cli.help_lists_commands PROPERTIES LABELS cli
  PASS_REGULAR_EXPRESSION "doctor.*world.*tokenizer.*train.*eval.*data")

# Every NLVR2 fixture record names images that are not there: the annotations
# read, and the image check counts and names the missing files. (No ';' in a
# PASS_REGULAR_EXPRESSION: it would split it into alternatives.)
add_test(NAME cli.data_inspect_reports_missing_images
  COMMAND smoes_cli data inspect --format nlvr2 --path ${SMOES_FIXTURES} --split val)
set_tests_properties(cli.data_inspect_reports_missing_images PROPERTIES LABELS cli
  PASS_REGULAR_EXPRESSION "3 records read, 3 examples, 0 skipped\nimages: 4 file\\(s\\) referenced, 4 missing, 0 unreadable. 0 example\\(s\\) have all their images\n  image problem: nlvr2 [^:]+: [^ ]+/nlvr2/images/dev/[^ ]+: image file not found")

add_test(NAME cli.data_inspect_unknown_format
  COMMAND smoes_cli data inspect --format nope --path ${SMOES_FIXTURES})
set_tests_properties(cli.data_inspect_unknown_format PROPERTIES LABELS cli
  PASS_REGULAR_EXPRESSION "unknown task 'nope' \\(known: coco_captions")

add_test(NAME cli.data_inspect_missing_file
  COMMAND smoes_cli data inspect --format gqa --path ${SMOES_FIXTURES} --split val)
set_tests_properties(cli.data_inspect_missing_file PROPERTIES LABELS cli
  PASS_REGULAR_EXPRESSION "gqa val: no annotation files under [^ ]+ \\(tried [^ ]+/gqa/questions/val_balanced_questions.json, [^ ]+/gqa/val_balanced_questions.json, [^ ]+/val_balanced_questions.json\\)")

# The MoE benchmark runs only the selected shape and reports its ratios.
add_test(NAME cli.bench_moe_one_case
  COMMAND smoes_cli bench moe --tokens 512 --experts 8 --top-k 2 --repeats 1)
set_tests_properties(cli.bench_moe_one_case PROPERTIES LABELS cli
  PASS_REGULAR_EXPRESSION "^T=512   E=8   k=2  moe +[0-9.]+ ms .*ratio_vs_dense [0-9.]+  ratio_vs_loop [0-9.]+  gemm_ratio [0-9.]+  cached_gemm_ratio [0-9.]+\n$")

# The decode benchmark generates every step for every row (counted, not timed).
add_test(NAME cli.bench_decode_counts_tokens
  COMMAND smoes_cli bench decode --batch 2 --prompt-len 70 --new-tokens 3 --repeats 1 --json)
set_tests_properties(cli.bench_decode_counts_tokens PROPERTIES LABELS cli
  PASS_REGULAR_EXPRESSION "\"generated_tokens\": 6")

# --profile writes one Chrome trace per batch size: a generation of 3 tokens
# is the prompt's forward and two cached steps, so 3 embedding lookups.
find_program(SMOES_PYTHON3_FOR_TRACE python3)
if(SMOES_PYTHON3_FOR_TRACE)
  add_test(NAME cli.bench_decode_profile_writes_a_trace
    COMMAND sh -c "\"$1\" bench decode --batch 1 --prompt-len 70 --new-tokens 3 --repeats 1 --profile \"$2/decode_trace\" >/dev/null && \"$3\" -c 'import json, sys; e = json.load(open(sys.argv[1])); e = e if isinstance(e, list) else e[\"traceEvents\"]; print(\"embeddings\", sum(x.get(\"name\") == \"aten::embedding\" for x in e))' \"$2/decode_trace_batch1.json\""
            sh $<TARGET_FILE:smoes_cli> ${PROJECT_BINARY_DIR} ${SMOES_PYTHON3_FOR_TRACE})
  set_tests_properties(cli.bench_decode_profile_writes_a_trace PROPERTIES LABELS cli
    PASS_REGULAR_EXPRESSION "^embeddings 3\n$")
endif()

# The PyTorch peer of scripts/peer_bench.sh at least compiles (it needs torch
# only to run; its bytecode goes to the build directory, not the source tree).
find_program(SMOES_PYTHON3 python3)
if(SMOES_PYTHON3)
  add_test(NAME bench.peer_compiles
    COMMAND ${CMAKE_COMMAND} -E env PYTHONPYCACHEPREFIX=${PROJECT_BINARY_DIR}/pycache
            ${SMOES_PYTHON3} -m py_compile ${PROJECT_SOURCE_DIR}/bench/peers/mixtral_peer.py)
  set_tests_properties(bench.peer_compiles PROPERTIES LABELS cli)
endif()

# smoes skip --replot reads only a skip result; any other JSON is refused by name.
add_test(NAME cli.skip_replot_refuses_other_json
  COMMAND smoes_cli skip --replot ${SMOES_FIXTURES}/instances_small.json)
set_tests_properties(cli.skip_replot_refuses_other_json PROPERTIES LABELS cli
  PASS_REGULAR_EXPRESSION "instances_small.json: not a smoes skip result")

# A run is needed for everything else.
add_test(NAME cli.skip_needs_a_run COMMAND smoes_cli skip --method modes)
set_tests_properties(cli.skip_needs_a_run PROPERTIES LABELS cli
  PASS_REGULAR_EXPRESSION "skip: give --ckpt and at least one --task")

# A VQA results file is scored from the annotations alone, as the official
# scorer does (no image of the fixtures exists). Hand value: red is 7 of 10
# humans (1), "3" and "yes" are 1 of 10 each (0.3 over the ten leave-one-out
# subsets): (1 + 0.3 + 0.3) / 3.
add_test(NAME cli.eval_scores_vqa_results_from_annotations_alone
  COMMAND smoes_cli eval --task vqa_v2 --split val --annotations ${SMOES_FIXTURES}
          --results ${PROJECT_SOURCE_DIR}/tests/fixtures/eval/vqa_results_no_images.json)
set_tests_properties(cli.eval_scores_vqa_results_from_annotations_alone PROPERTIES LABELS cli
  PASS_REGULAR_EXPRESSION "vqa_v2 +accuracy +0\\.5333")

# --json writes every parsed record with its fields (here the VQA fixture's three questions).
add_test(NAME cli.data_inspect_json_dumps_every_record
  COMMAND sh -c "$<TARGET_FILE:smoes_cli> data inspect --format vqa_v2 --path ${SMOES_FIXTURES} --split val --json \"$0\" > /dev/null && cat \"$0\"" ${CMAKE_BINARY_DIR}/inspect_vqa.json)
set_tests_properties(cli.data_inspect_json_dumps_every_record PROPERTIES LABELS cli
  PASS_REGULAR_EXPRESSION "\"id\": \"42000\".*\"question_type\".*\"id\": \"42001\".*\"id\": \"73000\"")

# Every subcommand's bad input (missing, unknown, malformed arguments; missing
# or unreadable files) exits 2 or 1 with one line naming the problem.
add_test(NAME cli.bad_input_gets_one_clear_line
  COMMAND bash ${PROJECT_SOURCE_DIR}/tests/cli/bad_input.sh $<TARGET_FILE:smoes_cli> ${SMOES_FIXTURES})
set_tests_properties(cli.bad_input_gets_one_clear_line PROPERTIES LABELS cli)
