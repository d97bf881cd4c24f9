from lintas.cli.main import main

main()
