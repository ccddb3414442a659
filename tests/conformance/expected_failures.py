"""Conformance scenarios Keyhouse is expected to fail, each with the reason.

The one place this list lives: tests/conformance/test_conformance.py fails when a scenario
outside it fails, and also when one inside it passes or no longer runs, so it stays honest.
docs/compatibility.md repeats these reasons for integrators.
"""

REFERENCE_FIXTURE = (
    "needs {what}, a fixture only the suite's reference server (the SDK 'everything' "
    "server) has; Keyhouse serves its own workspace tools"
)
NO_BACK_CHANNEL = (
    "needs the server to send {what} to the client in the middle of a tool call; Keyhouse "
    "runs the stateless transport with JSON responses, which has no channel for that"
)

SERVER: dict[str, str] = {
    "logging-set-level": (
        "Keyhouse does not offer the optional `logging` capability (it does not declare it, "
        "so `logging/setLevel` is Method not found)"
    ),
    "completion-complete": (
        "Keyhouse does not offer the optional `completions` capability and has no prompts or "
        "resource templates to complete arguments for"
    ),
    "tools-call-image": REFERENCE_FIXTURE.format(what="the tool `test_image_content`"),
    "tools-call-audio": REFERENCE_FIXTURE.format(what="the tool `test_audio_content`"),
    "tools-call-embedded-resource": REFERENCE_FIXTURE.format(
        what="the tool `test_embedded_resource`"
    ),
    "tools-call-mixed-content": REFERENCE_FIXTURE.format(
        what="the tool `test_multiple_content_types`"
    ),
    "tools-call-with-logging": NO_BACK_CHANNEL.format(what="log notifications")
    + "; it also needs the reference tool `test_tool_with_logging`",
    "tools-call-with-progress": NO_BACK_CHANNEL.format(what="progress notifications")
    + "; it also needs the reference tool `test_tool_with_progress`",
    "tools-call-sampling": NO_BACK_CHANNEL.format(what="a sampling request")
    + "; it also needs the reference tool `test_sampling`",
    "tools-call-elicitation": NO_BACK_CHANNEL.format(what="an elicitation request")
    + "; it also needs the reference tool `test_elicitation`",
    "elicitation-sep1034-defaults": NO_BACK_CHANNEL.format(what="an elicitation request")
    + "; it also needs the reference tool `test_elicitation_sep1034_defaults`",
    "elicitation-sep1330-enums": NO_BACK_CHANNEL.format(what="an elicitation request")
    + "; it also needs the reference tool `test_elicitation_sep1330_enums`",
    "resources-read-text": REFERENCE_FIXTURE.format(what="the resource `test://static-text`"),
    "resources-read-binary": REFERENCE_FIXTURE.format(what="the resource `test://static-binary`"),
    "resources-templates-read": REFERENCE_FIXTURE.format(
        what="the resource template `test://template/{id}/data`"
    ),
    "resources-subscribe": (
        "Keyhouse has no resources and does not offer the optional resource `subscribe` "
        "capability (it declares `subscribe: false`)"
    ),
    "resources-unsubscribe": (
        "Keyhouse has no resources and does not offer the optional resource `subscribe` "
        "capability (it declares `subscribe: false`)"
    ),
    "prompts-get-simple": REFERENCE_FIXTURE.format(what="the prompt `test_simple_prompt`"),
    "prompts-get-with-args": REFERENCE_FIXTURE.format(
        what="the prompt `test_prompt_with_arguments`"
    ),
    "prompts-get-embedded-resource": REFERENCE_FIXTURE.format(
        what="the prompt `test_prompt_with_embedded_resource`"
    ),
    "prompts-get-with-image": REFERENCE_FIXTURE.format(what="the prompt `test_prompt_with_image`"),
}

AUTHORIZATION: dict[str, str] = {}
