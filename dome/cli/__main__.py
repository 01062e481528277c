from dome.cli import main

main()
