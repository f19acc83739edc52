#compdef supportcli

_supportcli_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _SUPPORTCLI_COMPLETE=complete_zsh supportcli)
}

compdef _supportcli_completion supportcli
