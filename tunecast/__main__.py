from tunecast.cli import main

raise SystemExit(main())
