// Moved to components/ (shared by every area); kept until the instructor pages import it from there.
export { TableScroll } from "../../components/TableScroll";
