//! One test per fixture directory (`fixture!(test_name, "format/case")`); the list is checked
//! against the directories by `every_fixture_dir_is_listed`.

use super::fixtures::fixture;

fixture!(diff__absolute_path_refused, "diff/absolute_path_refused");
fixture!(
    diff__basename_ambiguous_no_rescue,
    "diff/basename_ambiguous_no_rescue"
);
fixture!(diff__basename_rescue, "diff/basename_rescue");
fixture!(
    diff__blank_first_line_and_missing_indent,
    "diff/blank_first_line_and_missing_indent"
);
fixture!(
    diff__blank_first_search_line_dropped,
    "diff/blank_first_search_line_dropped"
);
fixture!(diff__blocks_apply_in_order, "diff/blocks_apply_in_order");
fixture!(diff__bom_crlf_file, "diff/bom_crlf_file");
fixture!(
    diff__bom_kept_and_not_matched,
    "diff/bom_kept_and_not_matched"
);
fixture!(
    diff__bom_line_in_search_not_needed,
    "diff/bom_line_in_search_not_needed"
);
fixture!(diff__chosen_source_fence, "diff/chosen_source_fence");
fixture!(
    diff__create_then_edit_new_file,
    "diff/create_then_edit_new_file"
);
fixture!(diff__crlf_file_stays_crlf, "diff/crlf_file_stays_crlf");
fixture!(
    diff__crlf_no_final_newline_append,
    "diff/crlf_no_final_newline_append"
);
fixture!(diff__crlf_reply_crlf_file, "diff/crlf_reply_crlf_file");
fixture!(diff__crlf_reply_lf_file, "diff/crlf_reply_lf_file");
fixture!(
    diff__deleted_lines_middle_crlf,
    "diff/deleted_lines_middle_crlf"
);
fixture!(
    diff__dot_slash_prefix_normalised,
    "diff/dot_slash_prefix_normalised"
);
fixture!(diff__dotdotdot_not_a_path, "diff/dotdotdot_not_a_path");
fixture!(
    diff__dotdotdot_only_in_replace_is_text,
    "diff/dotdotdot_only_in_replace_is_text"
);
fixture!(diff__elision, "diff/elision");
fixture!(
    diff__elision_repeated_piece_fails,
    "diff/elision_repeated_piece_fails"
);
fixture!(diff__elision_unpaired_fails, "diff/elision_unpaired_fails");
fixture!(
    diff__empty_replace_deletes_lines,
    "diff/empty_replace_deletes_lines"
);
fixture!(
    diff__empty_search_appends_on_new_line,
    "diff/empty_search_appends_on_new_line"
);
fixture!(
    diff__empty_search_creates_file,
    "diff/empty_search_creates_file"
);
fixture!(
    diff__empty_search_new_file_not_rematched,
    "diff/empty_search_new_file_not_rematched"
);
fixture!(diff__exact_basic, "diff/exact_basic");
fixture!(
    diff__feedback_replace_already_present,
    "diff/feedback_replace_already_present"
);
fixture!(diff__file_label_before_path, "diff/file_label_before_path");
fixture!(
    diff__file_left_empty_succeeds,
    "diff/file_left_empty_succeeds"
);
fixture!(
    diff__filename_in_its_own_fence_above,
    "diff/filename_in_its_own_fence_above"
);
fixture!(diff__first_occurrence_only, "diff/first_occurrence_only");
fixture!(diff__four_backtick_fence, "diff/four_backtick_fence");
fixture!(diff__four_lt_is_content, "diff/four_lt_is_content");
fixture!(
    diff__head_marker_in_search_is_content,
    "diff/head_marker_in_search_is_content"
);
fixture!(
    diff__indentation_first_occurrence,
    "diff/indentation_first_occurrence"
);
fixture!(
    diff__indentation_inconsistent_fails,
    "diff/indentation_inconsistent_fails"
);
fixture!(
    diff__indentation_keeps_replace_relative_indent,
    "diff/indentation_keeps_replace_relative_indent"
);
fixture!(
    diff__indentation_keeps_whitespace_of_edge_blank_lines,
    "diff/indentation_keeps_whitespace_of_edge_blank_lines"
);
fixture!(
    diff__blank_first_line_goes_from_replace_too,
    "diff/blank_first_line_goes_from_replace_too"
);
fixture!(
    diff__indentation_only_search_lost_indent,
    "diff/indentation_only_search_lost_indent"
);
fixture!(
    diff__indentation_over_indented_replace_adds_outer_line,
    "diff/indentation_over_indented_replace_adds_outer_line"
);
fixture!(
    diff__indentation_replace_adds_outer_level_line,
    "diff/indentation_replace_adds_outer_level_line"
);
fixture!(
    diff__indentation_search_over_indented,
    "diff/indentation_search_over_indented"
);
fixture!(diff__indentation_spaces, "diff/indentation_spaces");
fixture!(diff__indentation_tabs, "diff/indentation_tabs");
fixture!(diff__inner_fence_lines_kept, "diff/inner_fence_lines_kept");
fixture!(
    diff__language_then_path_in_fence_info,
    "diff/language_then_path_in_fence_info"
);
fixture!(
    diff__markdown_code_block_fences_are_content,
    "diff/markdown_code_block_fences_are_content"
);
fixture!(
    diff__markdown_fences_removed_from_block,
    "diff/markdown_fences_removed_from_block"
);
fixture!(diff__marker_lengths_and_gt, "diff/marker_lengths_and_gt");
fixture!(
    diff__missing_divider_names_line,
    "diff/missing_divider_names_line"
);
fixture!(
    diff__missing_filename_first_block,
    "diff/missing_filename_first_block"
);
fixture!(
    diff__missing_tail_names_line,
    "diff/missing_tail_names_line"
);
fixture!(
    diff__missing_tail_then_next_block,
    "diff/missing_tail_then_next_block"
);
fixture!(
    diff__mixed_endings_untouched_lines_kept,
    "diff/mixed_endings_untouched_lines_kept"
);
fixture!(
    diff__multiple_blocks_same_file,
    "diff/multiple_blocks_same_file"
);
fixture!(
    diff__multiple_files_in_one_reply,
    "diff/multiple_files_in_one_reply"
);
fixture!(
    diff__nested_fence_in_markdown,
    "diff/nested_fence_in_markdown"
);
fixture!(
    diff__new_file_next_to_known_one,
    "diff/new_file_next_to_known_one"
);
fixture!(diff__no_fence_at_all, "diff/no_fence_at_all");
fixture!(
    diff__no_fence_blocks_last_without_newline,
    "diff/no_fence_blocks_last_without_newline"
);
fixture!(
    diff__no_file_matches_anywhere,
    "diff/no_file_matches_anywhere"
);
fixture!(diff__no_final_newline_kept, "diff/no_final_newline_kept");
fixture!(
    diff__no_final_newline_lines_added_at_end,
    "diff/no_final_newline_lines_added_at_end"
);
fixture!(diff__no_fuzzy_match, "diff/no_fuzzy_match");
fixture!(diff__not_utf8_file_fails, "diff/not_utf8_file_fails");
fixture!(
    diff__one_file_named_two_ways,
    "diff/one_file_named_two_ways"
);
fixture!(
    diff__partial_failure_feedback,
    "diff/partial_failure_feedback"
);
fixture!(
    diff__partial_line_does_not_match,
    "diff/partial_line_does_not_match"
);
fixture!(
    diff__partially_missing_indent_keeps_relative,
    "diff/partially_missing_indent_keeps_relative"
);
fixture!(
    diff__path_decorated_bold_backticks_colon,
    "diff/path_decorated_bold_backticks_colon"
);
fixture!(diff__path_escape_refused, "diff/path_escape_refused");
fixture!(diff__path_in_fence_info, "diff/path_in_fence_info");
fixture!(
    diff__path_reused_from_previous_block,
    "diff/path_reused_from_previous_block"
);
fixture!(
    diff__path_with_heading_hashes,
    "diff/path_with_heading_hashes"
);
fixture!(
    diff__path_with_spaces_and_dirs,
    "diff/path_with_spaces_and_dirs"
);
fixture!(diff__policy_refusal, "diff/policy_refusal");
fixture!(
    diff__prose_ending_in_file_name_names_it,
    "diff/prose_ending_in_file_name_names_it"
);
fixture!(
    diff__prose_ending_in_new_file_name_creates_nothing,
    "diff/prose_ending_in_new_file_name_creates_nothing"
);
fixture!(diff__prose_line_is_not_path, "diff/prose_line_is_not_path");
fixture!(
    diff__prose_with_backticked_name_is_not_path,
    "diff/prose_with_backticked_name_is_not_path"
);
fixture!(
    diff__quad_fence_holding_triple_fences,
    "diff/quad_fence_holding_triple_fences"
);
fixture!(
    diff__replace_at_end_of_file_without_newline,
    "diff/replace_at_end_of_file_without_newline"
);
fixture!(
    diff__rescue_into_a_finished_file_keeps_its_line_style,
    "diff/rescue_into_a_finished_file_keeps_its_line_style"
);
fixture!(
    diff__search_matches_only_after_earlier_block,
    "diff/search_matches_only_after_earlier_block"
);
fixture!(
    diff__second_block_sees_first_edit,
    "diff/second_block_sees_first_edit"
);
fixture!(
    diff__second_divider_ends_replace,
    "diff/second_divider_ends_replace"
);
fixture!(
    diff__shell_fence_is_suggested_command,
    "diff/shell_fence_is_suggested_command"
);
fixture!(diff__similar_path_rescue, "diff/similar_path_rescue");
fixture!(
    diff__tabs_vs_spaces_extra_indent,
    "diff/tabs_vs_spaces_extra_indent"
);
fixture!(
    diff__trailing_blank_exact_before_reindented,
    "diff/trailing_blank_exact_before_reindented"
);
fixture!(
    diff__trailing_blank_keeps_whitespace_only_line,
    "diff/trailing_blank_keeps_whitespace_only_line"
);
fixture!(
    diff__trailing_blank_search_lines_file_lacks,
    "diff/trailing_blank_search_lines_file_lacks"
);
fixture!(
    diff__trailing_whitespace_does_not_match,
    "diff/trailing_whitespace_does_not_match"
);
fixture!(
    diff__two_blocks_one_fence_with_dots_between,
    "diff/two_blocks_one_fence_with_dots_between"
);
fixture!(diff__unclosed_fence_at_end, "diff/unclosed_fence_at_end");
fixture!(
    diff__unchosen_tag_fence_is_not_a_path,
    "diff/unchosen_tag_fence_is_not_a_path"
);
fixture!(diff__unicode_content, "diff/unicode_content");
fixture!(
    diff__varied_indent_in_search,
    "diff/varied_indent_in_search"
);
fixture!(
    diff__whole_file_replaced_by_block,
    "diff/whole_file_replaced_by_block"
);
fixture!(
    diff__wrapping_fence_stripped,
    "diff/wrapping_fence_stripped"
);
fixture!(
    diff__wrapping_path_line_stripped,
    "diff/wrapping_path_line_stripped"
);
fixture!(diff__wrong_file_rescue, "diff/wrong_file_rescue");
fixture!(
    diff_fenced__chosen_code_fence,
    "diff-fenced/chosen_code_fence"
);
fixture!(diff_fenced__crlf_everything, "diff-fenced/crlf_everything");
fixture!(
    diff_fenced__delete_lines_leaves_empty_file,
    "diff-fenced/delete_lines_leaves_empty_file"
);
fixture!(
    diff_fenced__failure_then_success_feedback,
    "diff-fenced/failure_then_success_feedback"
);
fixture!(diff_fenced__four_backticks, "diff-fenced/four_backticks");
fixture!(
    diff_fenced__gemini_style_prose_between,
    "diff-fenced/gemini_style_prose_between"
);
fixture!(
    diff_fenced__indentation_tolerant,
    "diff-fenced/indentation_tolerant"
);
fixture!(
    diff_fenced__missing_path_uses_previous,
    "diff-fenced/missing_path_uses_previous"
);
fixture!(diff_fenced__new_file, "diff-fenced/new_file");
fixture!(
    diff_fenced__path_above_fence_parses_too,
    "diff-fenced/path_above_fence_parses_too"
);
fixture!(
    diff_fenced__path_first_inside_fence,
    "diff-fenced/path_first_inside_fence"
);
fixture!(
    diff_fenced__path_with_spaces,
    "diff-fenced/path_with_spaces"
);
fixture!(diff_fenced__two_files, "diff-fenced/two_files");
fixture!(
    udiff__ambiguous_without_hint_fails,
    "udiff/ambiguous_without_hint_fails"
);
fixture!(
    udiff__blank_context_lines_ignored,
    "udiff/blank_context_lines_ignored"
);
fixture!(udiff__bom_file, "udiff/bom_file");
fixture!(
    udiff__context_line_fence_keeps_diff_open,
    "udiff/context_line_fence_keeps_diff_open"
);
fixture!(
    udiff__context_shrinking_each_side_on_its_own,
    "udiff/context_shrinking_each_side_on_its_own"
);
fixture!(
    udiff__dev_null_over_existing_file_is_ordinary_hunk,
    "udiff/dev_null_over_existing_file_is_ordinary_hunk"
);
fixture!(
    udiff__lost_diff_space_indented_context_no_column_shift,
    "udiff/lost_diff_space_indented_context_no_column_shift"
);
fixture!(
    udiff__lost_diff_space_context_no_column_shift,
    "udiff/lost_diff_space_context_no_column_shift"
);
fixture!(udiff__context_shrinking, "udiff/context_shrinking");
fixture!(
    udiff__context_shrinking_two_changes,
    "udiff/context_shrinking_two_changes"
);
fixture!(udiff__crlf_reply, "udiff/crlf_reply");
fixture!(
    udiff__delete_denied_by_policy,
    "udiff/delete_denied_by_policy"
);
fixture!(
    udiff__delete_missing_file_fails,
    "udiff/delete_missing_file_fails"
);
fixture!(udiff__dev_null_creates, "udiff/dev_null_creates");
fixture!(udiff__dev_null_deletes, "udiff/dev_null_deletes");
fixture!(udiff__diff_u_output, "udiff/diff_u_output");
fixture!(
    udiff__fence_cuts_hunk_counts_say_more_fails,
    "udiff/fence_cuts_hunk_counts_say_more_fails"
);
fixture!(
    udiff__fence_cuts_hunk_lines_go_on_fails,
    "udiff/fence_cuts_hunk_lines_go_on_fails"
);
fixture!(
    udiff__forced_patch_file_mode,
    "udiff/forced_patch_file_mode"
);
fixture!(
    udiff__four_backtick_diff_fence,
    "udiff/four_backtick_diff_fence"
);
fixture!(udiff__git_copy_with_change, "udiff/git_copy_with_change");
fixture!(
    udiff__git_patch_several_files,
    "udiff/git_patch_several_files"
);
fixture!(udiff__git_rename_pure, "udiff/git_rename_pure");
fixture!(
    udiff__git_rename_with_changes,
    "udiff/git_rename_with_changes"
);
fixture!(
    udiff__hunk_adds_at_end_of_file,
    "udiff/hunk_adds_at_end_of_file"
);
fixture!(
    udiff__hunk_mismatch_feedback,
    "udiff/hunk_mismatch_feedback"
);
fixture!(
    udiff__hunk_without_headers_takes_previous_path,
    "udiff/hunk_without_headers_takes_previous_path"
);
fixture!(udiff__insertion_at_top, "udiff/insertion_at_top");
fixture!(
    udiff__leading_directory_stripped_like_p1,
    "udiff/leading_directory_stripped_like_p1"
);
fixture!(udiff__lf_hunk_crlf_file, "udiff/lf_hunk_crlf_file");
fixture!(udiff__missing_file_fails, "udiff/missing_file_fails");
fixture!(
    udiff__missing_headers_first_hunk,
    "udiff/missing_headers_first_hunk"
);
fixture!(
    udiff__multiple_hunks_one_fence,
    "udiff/multiple_hunks_one_fence"
);
fixture!(
    udiff__no_changes_hunk_ignored,
    "udiff/no_changes_hunk_ignored"
);
fixture!(
    udiff__no_final_newline_reply_keeps_none,
    "udiff/no_final_newline_reply_keeps_none"
);
fixture!(
    udiff__no_newline_added_marker,
    "udiff/no_newline_added_marker"
);
fixture!(
    udiff__no_newline_at_end_markers,
    "udiff/no_newline_at_end_markers"
);
fixture!(udiff__only_diff_fences_read, "udiff/only_diff_fences_read");
fixture!(
    udiff__patch_binary_unsupported,
    "udiff/patch_binary_unsupported"
);
fixture!(
    udiff__patch_create_existing_fails,
    "udiff/patch_create_existing_fails"
);
fixture!(
    udiff__patch_crlf_file_lf_patch,
    "udiff/patch_crlf_file_lf_patch"
);
fixture!(
    udiff__patch_format_patch_email,
    "udiff/patch_format_patch_email"
);
fixture!(
    udiff__patch_mode_change_ignored,
    "udiff/patch_mode_change_ignored"
);
fixture!(udiff__patch_new_empty_file, "udiff/patch_new_empty_file");
fixture!(
    udiff__patch_path_with_spaces,
    "udiff/patch_path_with_spaces"
);
fixture!(udiff__patch_quoted_path, "udiff/patch_quoted_path");
fixture!(
    udiff__patch_removed_line_looks_like_header,
    "udiff/patch_removed_line_looks_like_header"
);
fixture!(
    udiff__patch_several_hunks_offsets,
    "udiff/patch_several_hunks_offsets"
);
fixture!(udiff__patch_truncated_hunk, "udiff/patch_truncated_hunk");
fixture!(
    udiff__real_b_directory_put_back,
    "udiff/real_b_directory_put_back"
);
fixture!(udiff__relative_indentation, "udiff/relative_indentation");
fixture!(
    udiff__relative_indentation_hunk_over_indented,
    "udiff/relative_indentation_hunk_over_indented"
);
fixture!(udiff__rename_binary_file, "udiff/rename_binary_file");
fixture!(
    udiff__rename_denied_writes_nothing,
    "udiff/rename_denied_writes_nothing"
);
fixture!(
    udiff__rename_then_edit_in_reply,
    "udiff/rename_then_edit_in_reply"
);
fixture!(
    udiff__repeated_text_picked_by_hint,
    "udiff/repeated_text_picked_by_hint"
);
fixture!(udiff__reply_basic, "udiff/reply_basic");
fixture!(
    udiff__reply_dev_null_on_existing_appends,
    "udiff/reply_dev_null_on_existing_appends"
);
fixture!(udiff__reply_no_line_numbers, "udiff/reply_no_line_numbers");
fixture!(udiff__shell_fence_suggested, "udiff/shell_fence_suggested");
fixture!(udiff__two_files_one_fence, "udiff/two_files_one_fence");
fixture!(
    udiff__unclosed_fence_keeps_last_line,
    "udiff/unclosed_fence_keeps_last_line"
);
fixture!(
    udiff__wrong_line_numbers_nearest,
    "udiff/wrong_line_numbers_nearest"
);
fixture!(
    whole__backtick_fallback_names_only_known_files,
    "whole/backtick_fallback_names_only_known_files"
);
fixture!(
    whole__backticked_name_most_recent,
    "whole/backticked_name_most_recent"
);
fixture!(whole__basic, "whole/basic");
fixture!(whole__bom_kept, "whole/bom_kept");
fixture!(whole__chosen_source_fence, "whole/chosen_source_fence");
fixture!(whole__creates_new_file, "whole/creates_new_file");
fixture!(whole__crlf_file_stays_crlf, "whole/crlf_file_stays_crlf");
fixture!(whole__crlf_reply, "whole/crlf_reply");
fixture!(
    whole__empty_listing_empties_file,
    "whole/empty_listing_empties_file"
);
fixture!(
    whole__example_before_real_listing,
    "whole/example_before_real_listing"
);
fixture!(
    whole__example_prefix_falls_back_to_basename,
    "whole/example_prefix_falls_back_to_basename"
);
fixture!(
    whole__explicit_listed_twice_first_wins,
    "whole/explicit_listed_twice_first_wins"
);
fixture!(
    whole__file_label_before_path,
    "whole/file_label_before_path"
);
fixture!(whole__first_listing_wins, "whole/first_listing_wins");
fixture!(
    whole__four_backticks_hold_triple_fences,
    "whole/four_backticks_hold_triple_fences"
);
fixture!(
    whole__indented_fence_inside_listing_is_content,
    "whole/indented_fence_inside_listing_is_content"
);
fixture!(
    whole__listed_twice_two_ways_first_wins,
    "whole/listed_twice_two_ways_first_wins"
);
fixture!(whole__lone_word_is_not_path, "whole/lone_word_is_not_path");
fixture!(whole__makefile_path, "whole/makefile_path");
fixture!(
    whole__nested_fence_with_language,
    "whole/nested_fence_with_language"
);
fixture!(
    whole__no_final_newline_same_line_count,
    "whole/no_final_newline_same_line_count"
);
fixture!(whole__no_path_is_error, "whole/no_path_is_error");
fixture!(whole__only_file_rule, "whole/only_file_rule");
fixture!(whole__path_in_fence_info, "whole/path_in_fence_info");
fixture!(whole__path_with_spaces, "whole/path_with_spaces");
fixture!(whole__policy_refusal, "whole/policy_refusal");
fixture!(
    whole__prose_ending_in_file_name_names_it,
    "whole/prose_ending_in_file_name_names_it"
);
fixture!(
    whole__prose_ending_in_new_file_name_creates_nothing,
    "whole/prose_ending_in_new_file_name_creates_nothing"
);
fixture!(
    whole__prose_not_path_uses_backticked_name,
    "whole/prose_not_path_uses_backticked_name"
);
fixture!(
    whole__second_listing_of_other_file_applies_after_failure,
    "whole/second_listing_of_other_file_applies_after_failure"
);
fixture!(
    whole__shell_fence_is_command,
    "whole/shell_fence_is_command"
);
fixture!(
    whole__source_fence_read_without_prompt,
    "whole/source_fence_read_without_prompt"
);
fixture!(whole__two_files, "whole/two_files");
fixture!(
    whole__unchanged_file_writes_nothing,
    "whole/unchanged_file_writes_nothing"
);
fixture!(
    whole__unclosed_fence_runs_to_end,
    "whole/unclosed_fence_runs_to_end"
);
fixture!(
    patch__add_existing_fails_naming_line,
    "patch/add_existing_fails_naming_line"
);
fixture!(patch__add_file, "patch/add_file");
fixture!(
    patch__add_then_update_same_patch,
    "patch/add_then_update_same_patch"
);
fixture!(
    patch__add_with_non_plus_line_named,
    "patch/add_with_non_plus_line_named"
);
fixture!(patch__all_three_kinds, "patch/all_three_kinds");
fixture!(patch__bad_prefix_line_named, "patch/bad_prefix_line_named");
fixture!(patch__bom_file, "patch/bom_file");
fixture!(
    patch__chunk_mismatch_feedback,
    "patch/chunk_mismatch_feedback"
);
fixture!(
    patch__context_narrows_search,
    "patch/context_narrows_search"
);
fixture!(patch__context_not_found, "patch/context_not_found");
fixture!(patch__crlf_file, "patch/crlf_file");
fixture!(patch__crlf_reply, "patch/crlf_reply");
fixture!(patch__delete_denied, "patch/delete_denied");
fixture!(patch__delete_file, "patch/delete_file");
fixture!(
    patch__delete_missing_fails_naming_line,
    "patch/delete_missing_fails_naming_line"
);
fixture!(patch__end_of_file_anchor, "patch/end_of_file_anchor");
fixture!(
    patch__end_of_file_pure_addition,
    "patch/end_of_file_pure_addition"
);
fixture!(
    patch__end_patch_context_line,
    "patch/end_patch_context_line"
);
fixture!(
    patch__first_occurrence_after_cursor,
    "patch/first_occurrence_after_cursor"
);
fixture!(patch__in_a_fence, "patch/in_a_fence");
fixture!(
    patch__move_onto_existing_fails,
    "patch/move_onto_existing_fails"
);
fixture!(patch__move_to, "patch/move_to");
fixture!(patch__move_to_same_path, "patch/move_to_same_path");
fixture!(patch__multiple_chunks, "patch/multiple_chunks");
fixture!(patch__no_begin_patch, "patch/no_begin_patch");
fixture!(
    patch__no_end_patch_tolerated,
    "patch/no_end_patch_tolerated"
);
fixture!(patch__no_final_newline_kept, "patch/no_final_newline_kept");
fixture!(
    patch__prose_before_begin_skipped,
    "patch/prose_before_begin_skipped"
);
fixture!(
    patch__pure_addition_after_context,
    "patch/pure_addition_after_context"
);
fixture!(patch__rstrip_match, "patch/rstrip_match");
fixture!(patch__strip_match, "patch/strip_match");
fixture!(patch__two_updates_merge, "patch/two_updates_merge");
fixture!(patch__unknown_header_named, "patch/unknown_header_named");
fixture!(patch__update_basic, "patch/update_basic");
fixture!(
    patch__update_missing_fails_naming_line,
    "patch/update_missing_fails_naming_line"
);
fixture!(
    whole__allow_shrink_lets_listing_drop_lines,
    "whole/allow_shrink_lets_listing_drop_lines"
);
fixture!(
    whole__dots_line_the_file_had_is_content,
    "whole/dots_line_the_file_had_is_content"
);
fixture!(whole__refuses_diff_hunk, "whole/refuses_diff_hunk");
fixture!(
    whole__refuses_dots_line_where_file_had_code,
    "whole/refuses_dots_line_where_file_had_code"
);
fixture!(
    whole__refuses_dropping_more_than_half,
    "whole/refuses_dropping_more_than_half"
);
fixture!(
    whole__refuses_elision_comments,
    "whole/refuses_elision_comments"
);
fixture!(
    whole__refuses_search_replace_markers,
    "whole/refuses_search_replace_markers"
);
fixture!(
    whole__dots_line_added_with_nothing_lost_is_content,
    "whole/dots_line_added_with_nothing_lost_is_content"
);
fixture!(
    whole__hunks_in_a_patch_file_are_content,
    "whole/hunks_in_a_patch_file_are_content"
);
