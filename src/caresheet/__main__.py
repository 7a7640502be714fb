from caresheet.cli import main

main()
